"""In person, in a real Chromium: the customer checks in with their link on a phone, the
waiting-room page follows the line live as staff call the next customers, the lobby screen
shows first names only, and the device page shows its history. Screenshots:
``var/screenshots/``."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import Site
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SCREENSHOTS, SERVER_WAIT

pytestmark = [pytest.mark.browser, pytest.mark.live]

# A kiosk open around the clock (so the test runs at any hour), two walk-ins already
# waiting, and Léa's booking in the next slot: she may check in now.
KIOSK = """
import json
from datetime import time, timedelta
from django.utils import timezone
from comptoir.appointments import configure
from comptoir.appointments.actions import add_walk_in, available_slots, book_appointment
from comptoir.appointments.links import manage_path
from comptoir.customers.actions import rename_customer
from comptoir.sla import configure as sla_configure
from comptoir.tenancy.models import Brand, Membership, Team
from tests.factories import ingest_chat
brand = Brand.objects.get(slug="maison-demo")
team = Team.objects.create(brand=brand, name="Kiosque")
calendar = sla_configure.save_calendar(brand, "Kiosque", "Europe/Paris", team=team)
sla_configure.set_week(calendar, {day: [(time(0), time(0))] for day in range(7)})
kiosk = configure.save_location(brand, "Kiosque Gare de Lyon", calendar)
julien = Membership.objects.get(user__username="julien")
configure.add_staff(kiosk, julien, desk="Comptoir 1")
service = configure.save_service(brand, "Diagnostic express", "Quick diagnosis",
                                 duration_minutes=15, capacity=5)
hugo = add_walk_in(kiosk, service, by=julien, first_name="Hugo")
ines = add_walk_in(kiosk, service, by=julien, first_name="Inès")
customer = ingest_chat(brand, "Mon téléphone chauffe").conversation.customer
rename_customer(customer, "Léa Martin")
now = timezone.now()
slot = available_slots(kiosk, service, now, now + timedelta(hours=1))[0]
booking = book_appointment(kiosk, service, slot.starts_at, customer=customer,
                           serial_number="DNPXK2LM0D4", problem="Le téléphone chauffe")
print(json.dumps({"location": kiosk.pk, "path": manage_path(booking),
                  "device": booking.device_id}))
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("appointments-site"))
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    server = site.start_server()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield server, site.python(KIOSK)
    site.stop()


def test_the_waiting_room_follows_the_line_as_staff_call_the_next_customer(shop):
    server, kiosk = shop
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        phone = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, locale="fr-FR"
        ).new_page()
        phone.set_default_timeout(SERVER_WAIT)  # a cap for a busy machine, not a wait
        staff = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-GB")
        staff.set_default_timeout(SERVER_WAIT)
        staff.goto(f"{server}/console/login/")
        staff.fill("input[name=username]", "julien")
        staff.fill("input[name=password]", PASSWORD)
        staff.click("button[type=submit]")
        staff.goto(f"{server}/console/appointments/?location={kiosk['location']}")
        expect(staff.get_by_test_id("queue")).to_contain_text("Hugo")
        expect(staff.get_by_test_id("queue")).not_to_contain_text("Léa Martin")

        phone.goto(f"{server}{kiosk['path']}")
        expect(phone.get_by_role("heading", name="Bonjour Léa")).to_be_visible()
        phone.get_by_test_id("check-in").click()
        # The staff's desk shows her arrival without a reload.
        expect(staff.get_by_test_id("queue")).to_contain_text("Léa Martin")
        place = phone.get_by_test_id("place-text")
        expect(place).to_contain_text("Vous êtes numéro 3 dans la file.")
        # Julien's desk is free: Hugo is about to be called, then Hugo's and Inès's 15 minutes.
        expect(place).to_contain_text("Attente estimée : 30 min.")
        ticket = phone.get_by_test_id("ticket").inner_text()
        assert ticket == "3"
        phone.screenshot(path=SCREENSHOTS / "appointment-waiting-room.png", full_page=True)
        # Pushed, not polled: the page holds its socket on the location's waiting room.
        expect(phone.locator("#place")).to_have_attribute("data-live", "on")

        lobby = browser.new_page(viewport={"width": 1280, "height": 720}, locale="fr-FR")
        lobby.context.add_cookies(staff.context.cookies())
        lobby.goto(f"{server}/console/appointments/locations/{kiosk['location']}/lobby/")
        expect(lobby.locator("body")).to_have_attribute("data-live", "on")
        called = lobby.get_by_test_id("lobby-called")
        expect(called).not_to_contain_text("Hugo")

        staff.get_by_test_id("call-next").click()  # Hugo
        # The customer's page and the lobby screen follow without a reload.
        expect(called).to_contain_text("Hugo")
        expect(place).to_contain_text("Vous êtes numéro 2 dans la file.", timeout=SERVER_WAIT)
        staff.get_by_test_id("call-next").click()  # Inès
        expect(place).to_contain_text("Vous êtes le prochain", timeout=SERVER_WAIT)
        staff.get_by_test_id("call-next").click()  # Léa
        expect(place).to_contain_text("C’est votre tour : rendez-vous au Comptoir 1.")  # noqa: RUF001
        phone.screenshot(path=SCREENSHOTS / "appointment-called.png", full_page=True)

        expect(called).to_contain_text("Léa")
        expect(called).to_contain_text("Hugo")
        expect(called).not_to_contain_text("Martin")
        lobby.screenshot(path=SCREENSHOTS / "appointment-lobby.png")

        # Served: the device's page shows the visit, its problem and its outcome.
        staff.reload()
        served = staff.get_by_test_id("called").filter(has_text="Léa Martin")
        served.get_by_label("Outcome").select_option("observation")
        served.get_by_label("Diagnosis").fill("Batterie gonflée, à surveiller")
        served.get_by_role("button", name="Served").click()
        expect(place).to_contain_text("Merci de votre visite.", timeout=SERVER_WAIT)
        staff.goto(f"{server}/console/devices/?serial=dnpxk2lm0d4")
        history = staff.get_by_test_id("history")
        expect(history).to_contain_text("Le téléphone chauffe")
        expect(history).to_contain_text("Kept under observation")
        expect(history).to_contain_text("Batterie gonflée, à surveiller")
        staff.screenshot(path=SCREENSHOTS / "appointment-device.png", full_page=True)
        browser.close()


def test_a_visitor_books_from_the_widget_on_a_phone(shop):
    server, _ = shop
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        phone = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, locale="fr-FR"
        ).new_page()
        phone.set_default_timeout(SERVER_WAIT)  # a cap for a busy machine, not a wait
        phone.goto(f"{server}/demo/")
        phone.get_by_test_id("comptoir-launcher").click()
        phone.get_by_test_id("comptoir-book-toggle").click()
        slots = phone.get_by_test_id("comptoir-book-slots")
        first = slots.get_by_role("radio").first
        first.check()
        phone.get_by_test_id("comptoir-book-serial").fill("DX3KQ7")
        phone.screenshot(path=SCREENSHOTS / "appointment-widget-picker.png")
        phone.get_by_test_id("comptoir-book-submit").click()
        expect(phone.get_by_test_id("comptoir-status")).to_contain_text(
            "Votre rendez-vous est réservé :"
        )
        expect(phone.get_by_test_id("comptoir-messages")).to_contain_text(
            "Demande de rendez-vous : Diagnostic smartphone"
        )
        phone.screenshot(path=SCREENSHOTS / "appointment-widget-booked.png")
        browser.close()
