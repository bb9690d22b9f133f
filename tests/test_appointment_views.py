"""Appointment pages: the console desk, booking, lobby, devices; the customer's page; the API."""

from datetime import datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from comptoir.appointments import configure
from comptoir.appointments.actions import (
    add_walk_in,
    book_appointment,
    call_next,
    check_in,
    waiting_queue,
)
from comptoir.appointments.configure import add_staff
from comptoir.appointments.links import manage_path
from comptoir.appointments.models import Appointment, AppointmentStatus, Device
from comptoir.conversations.models import AuthorKind, Message
from comptoir.customers.actions import rename_customer
from comptoir.events.models import Event
from comptoir.tasks import run_pending
from comptoir.tenancy.models import ApiToken
from tests.appointment_helpers import diagnosis, shop
from tests.factories import ingest_chat, make_agent
from tests.sla_helpers import paris
from tests.test_console import PNG_PIXEL

NOW = paris(2031, 6, 6, 12)  # a Friday
MONDAY_TEN = paris(2031, 6, 9, 10)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def setup(brand):
    return shop(brand), diagnosis(brand)


def named_customer(brand, name: str = "Léa Martin"):
    customer = ingest_chat(brand, "Mon écran est cassé").conversation.customer
    rename_customer(customer, name)
    return customer


# --- Console ---------------------------------------------------------------------------------


def test_staff_book_a_slot_from_the_customer_page(agent_client, agent, brand, setup):
    location, service = setup
    customer = named_customer(brand)
    url = reverse("appointments:book", kwargs={"customer_id": customer.pk})
    page = agent_client.get(url, {"day": "2031-06-09"})
    assert page.status_code == 200
    assert 'value="2031-06-09T08:00:00+00:00"' in page.content.decode()
    response = agent_client.post(
        url,
        {
            "location": location.pk,
            "service": service.pk,
            "starts_at": "2031-06-09T10:00:00+02:00",
            "serial_number": "c39abc",
            "problem": "<b>Écran</b> cassé",
        },
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get(customer=customer)
    assert appointment.starts_at == MONDAY_TEN and appointment.device.serial_number == "C39ABC"
    assert Event.objects.get(kind="appointment.booked").actor_id == agent.pk
    customer_page = agent_client.get(reverse("console:customer", args=[customer.pk]))
    html = customer_page.content.decode()
    assert appointment.reference in html and "C39ABC" in html
    # Taken: booking it again is refused with the reason.
    again = agent_client.post(
        url,
        {"location": location.pk, "service": service.pk, "starts_at": "2031-06-09T10:00:00+02:00"},
        follow=True,
    )
    assert "This slot is no longer available." in again.content.decode()  # the agent's English
    assert Appointment.objects.count() == 1


def test_desk_check_in_by_search_walk_in_call_serve(agent_client, agent, brand, setup):
    location, service = setup
    add_staff(location, agent, desk="Comptoir 2")
    customer = named_customer(brand)
    appointment = book_appointment(location, service, MONDAY_TEN, customer=customer)
    with time_machine.travel(paris(2031, 6, 9, 9, 55), tick=False):
        agent_client.force_login(agent.user)  # a session from years before has expired
        desk = reverse("appointments:desk")
        found = agent_client.get(desk, {"q": appointment.reference.lower()})
        assert appointment.reference in found.content.decode()
        by_name = agent_client.get(desk, {"q": "martin"})
        assert appointment.reference in by_name.content.decode()
        agent_client.post(reverse("appointments:check_in", args=[appointment.pk]))
        agent_client.post(
            reverse("appointments:walk_in", args=[location.pk]),
            {"first_name": "Hugo", "service": service.pk, "serial_number": "X1"},
        )
        queue = agent_client.get(desk).content.decode()
        assert "Léa Martin" in queue and "Hugo" in queue
        agent_client.post(reverse("appointments:call_next", args=[location.pk]))
        walk_in = Appointment.objects.get(walk_in=True)
        assert walk_in.status == AppointmentStatus.CALLED  # arrived at 9:55, booking is at 10:00
        assert walk_in.desk == "Comptoir 2"
        agent_client.post(
            reverse("appointments:serve", args=[walk_in.pk]),
            {"outcome": "repair", "diagnosis": "Connecteur oxydé"},
        )
        walk_in.refresh_from_db()
        assert walk_in.status == AppointmentStatus.SERVED and walk_in.outcome == "repair"
        refused = agent_client.post(
            reverse("appointments:serve", args=[appointment.pk]),
            {"outcome": "nonsense"},
            follow=True,
        )
        assert "Choose an outcome." in refused.content.decode()


def test_the_lobby_shows_first_names_and_tickets_only(agent_client, agent, brand, setup):
    location, service = setup
    customer = named_customer(brand, "Léa Martin")
    appointment = book_appointment(location, service, MONDAY_TEN, customer=customer)
    with time_machine.travel(paris(2031, 6, 9, 9, 55), tick=False):
        agent_client.force_login(agent.user)  # a session from years before has expired
        check_in(appointment)
        add_walk_in(location, service, by=agent, first_name="<script>x</script>")
        html = agent_client.get(reverse("appointments:lobby", args=[location.pk])).content.decode()
    assert "Léa" in html and "Martin" not in html
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_device_search_and_history(agent_client, agent, brand, setup):
    location, service = setup
    customer = named_customer(brand)
    appointment = book_appointment(
        location, service, MONDAY_TEN, customer=customer, serial_number="F2LX9", problem="Batterie"
    )
    device = Device.objects.get(serial_number="F2LX9")
    exact = agent_client.get(reverse("appointments:devices"), {"serial": "f2lx9"})
    assert exact.status_code == 302 and exact["Location"].endswith(f"/console/devices/{device.pk}/")
    partial = agent_client.get(reverse("appointments:devices"), {"serial": "F2"})
    assert "F2LX9" in partial.content.decode()
    history = agent_client.get(reverse("appointments:device", args=[device.pk])).content.decode()
    assert appointment.reference not in history  # agents read dates, places and outcomes
    assert "Batterie" in history and "Boutique Opéra" in history and "Léa Martin" in history


# --- The customer's page, by its signed link -------------------------------------------------


def test_the_customer_checks_in_with_the_link_and_sees_their_place(client, agent, brand, setup):
    location, service = setup
    customer = named_customer(brand)
    appointment = book_appointment(location, service, MONDAY_TEN, customer=customer)
    url = manage_path(appointment)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        "Bonjour Léa" in html
        and "Martin" not in html
        and "lundi 9 juin 2031, 10:00" in html.lower()
    )
    too_early = client.post(url, {"action": "check_in"})
    assert too_early.status_code == 409
    assert "L’enregistrement ouvre une heure avant votre rendez-vous." in too_early.content.decode()  # noqa: RUF001
    with time_machine.travel(paris(2031, 6, 9, 9, 50), tick=False):
        add_walk_in(location, service, by=agent, first_name="Hugo")
        assert client.post(url, {"action": "check_in"}).status_code == 302
        place = client.get(reverse("appointments:place", args=[url.split("/")[2]])).json()
        assert place["status"] == "checked_in" and place["position"] == 1
        # The desk is free: Hugo is about to be called, then the 30 minutes of his service.
        assert place["text"] == ("Vous êtes numéro 2 dans la file. Attente estimée : 30 min.")
    assert Event.objects.get(
        kind="appointment.checked_in", payload__id=appointment.pk
    ).actor_kind == ("customer")


def test_the_customer_moves_then_cancels_with_the_link(client, brand, setup):
    location, service = setup
    appointment = book_appointment(location, service, MONDAY_TEN, customer=named_customer(brand))
    url = manage_path(appointment)
    slots = client.get(url, {"day": "2031-06-10"}).content.decode()
    assert "15:00" in slots
    moved = client.post(url, {"action": "reschedule", "starts_at": "2031-06-10T15:00:00+02:00"})
    assert moved.status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == paris(2031, 6, 10, 15)
    assert client.post(url, {"action": "reschedule", "starts_at": "tomorrow"}).status_code == 409
    assert client.post(url, {"action": "explode"}).status_code == 400
    assert client.post(url, {"action": "cancel"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert "Ce rendez-vous est annulé." in client.get(url).content.decode()
    assert client.post(url, {"action": "cancel"}).status_code == 409


def test_a_forged_link_is_not_found(client, brand, setup):
    location, service = setup
    appointment = book_appointment(location, service, MONDAY_TEN, customer=named_customer(brand))
    token = manage_path(appointment).split("/")[2]
    other = book_appointment(
        location, service, paris(2031, 6, 9, 11), customer=named_customer(brand)
    )
    # The other booking's payload under this booking's signature.
    forged = manage_path(other).split("/")[2].split(":")[0] + ":" + token.split(":")[1]
    for bad in ("nothing", forged, token + "x"):
        assert client.get(reverse("appointments:manage", args=[bad])).status_code == 404
        assert client.get(reverse("appointments:place", args=[bad])).status_code == 404
        assert client.get(reverse("appointments:qr", args=[bad])).status_code == 404


def test_the_check_in_link_is_a_qr_code_on_the_page_and_in_the_confirmation(client, brand, setup):
    location, service = setup
    appointment = book_appointment(location, service, MONDAY_TEN, customer=named_customer(brand))
    other = book_appointment(
        location, service, paris(2031, 6, 9, 11), customer=named_customer(brand, "Noé Petit")
    )
    page = client.get(manage_path(appointment)).content.decode()
    assert 'data-testid="qr"' in page and "<svg" in page
    image = client.get(manage_path(appointment) + "qr.svg")
    assert image.status_code == 200 and image["Content-Type"] == "image/svg+xml"
    assert image.content.lstrip().startswith(b"<?xml") and b"<svg" in image.content
    # The code holds the booking's own link: another booking's code differs.
    assert image.content != client.get(manage_path(other) + "qr.svg").content
    run_pending()
    confirmation = Message.objects.get(
        conversation=appointment.conversation,
        author_kind=AuthorKind.SYSTEM,
        is_internal_note=False,
        text__contains=appointment.reference,
    )
    assert manage_path(appointment) + "qr.svg" in confirmation.text
    check_in(appointment)  # checked in: the page shows the place, not the code
    assert 'data-testid="qr"' not in client.get(manage_path(appointment)).content.decode()


# --- API -------------------------------------------------------------------------------------


def api(client, member):
    _, key = ApiToken.issue(member, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_api_lists_slots_books_moves_and_cancels(client, agent, brand, setup):
    location, service = setup
    headers = api(client, agent)
    customer = named_customer(brand)
    assert client.get("/api/locations", **headers).json()[0]["time_zone"] == "Europe/Paris"
    assert client.get("/api/services", **headers).json()[0]["name_en"] == "Smartphone diagnosis"
    slots = client.get(
        "/api/appointments/slots",
        {"location_id": location.pk, "service_id": service.pk, "day": "2031-06-09"},
        **headers,
    ).json()
    assert slots[0]["starts_at"] == "2031-06-09T08:00:00Z" and slots[0]["free"] == 1
    body = {
        "customer_id": customer.pk,
        "location_id": location.pk,
        "service_id": service.pk,
        "starts_at": "2031-06-09T10:00:00+02:00",
        "serial_number": "dnp123",
    }
    created = client.post("/api/appointments", body, content_type="application/json", **headers)
    assert created.status_code == 201, created.content
    appointment_id = created.json()["id"]
    taken = client.post("/api/appointments", body, content_type="application/json", **headers)
    assert taken.status_code == 409 and taken.json()["detail"]
    naive = client.post(
        "/api/appointments",
        body | {"starts_at": "2031-06-09T10:00:00"},
        content_type="application/json",
        **headers,
    )
    assert naive.status_code == 400
    moved = client.post(
        f"/api/appointments/{appointment_id}/reschedule",
        {"starts_at": "2031-06-09T10:30:00+02:00"},
        content_type="application/json",
        **headers,
    )
    assert moved.status_code == 200
    assert datetime.fromisoformat(moved.json()["starts_at"]) == paris(2031, 6, 9, 10, 30)
    devices = client.get("/api/devices", {"serial_number": "DNP"}, **headers).json()
    assert [d["serial_number"] for d in devices] == ["DNP123"]
    history = client.get(f"/api/devices/{devices[0]['id']}", **headers).json()
    assert [a["id"] for a in history["appointments"]] == [appointment_id]
    cancelled = client.post(f"/api/appointments/{appointment_id}/cancel", **headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.post(f"/api/appointments/{appointment_id}/cancel", **headers).status_code == 409


def test_api_refuses_another_brands_location_or_customer(
    client, agent, outsider, brand, other_brand, setup
):
    location, service = setup
    mine = named_customer(brand)
    theirs_location, theirs_service = shop(other_brand), diagnosis(other_brand)
    body = {
        "customer_id": mine.pk,
        "location_id": theirs_location.pk,
        "service_id": service.pk,
        "starts_at": "2031-06-09T10:00:00+02:00",
    }
    headers = api(client, agent)
    response = client.post("/api/appointments", body, content_type="application/json", **headers)
    assert response.status_code == 404
    body |= {"location_id": location.pk, "service_id": theirs_service.pk}
    response = client.post("/api/appointments", body, content_type="application/json", **headers)
    assert response.status_code == 404
    assert not Appointment.objects.exists()


# --- The widget's slot picker ----------------------------------------------------------------


def widget_session(client, brand) -> dict:
    response = client.post(
        "/widget/api/session", {"brand": brand.slug}, content_type="application/json"
    )
    return response.json()


def test_the_widget_offers_slots_and_books_one_as_the_visitors_message(client, brand, setup):
    _, service = setup
    session = widget_session(client, brand)
    assert session["brand"]["appointments"] is True
    headers = {"HTTP_AUTHORIZATION": f"Bearer {session['token']}"}
    offered = client.post(
        "/widget/api/appointments/slots", {}, content_type="application/json", **headers
    ).json()
    # Friday noon: the rest of Friday first.
    assert offered["day"] == "2031-06-06" and offered["slots"][0]["label"] == "12:00"
    assert offered["services"] == [
        {"id": service.pk, "name": "Diagnostic smartphone", "minutes": 30}
    ]
    monday = client.post(
        "/widget/api/appointments/slots",
        {"day": "2031-06-08"},  # a Sunday: the picker moves on to Monday
        content_type="application/json",
        **headers,
    ).json()
    assert monday["day"] == "2031-06-09" and monday["slots"][0]["label"] == "10:00"
    body = {
        "service_id": service.pk,
        "starts_at": monday["slots"][0]["starts_at"],
        "serial_number": "W1DGT",
        "client_id": "7b0d3f5e-8a57-4c4f-9a51-7c1f0e9a2b11",
    }
    booked = client.post(
        "/widget/api/appointments", body, content_type="application/json", **headers
    )
    assert booked.status_code == 201, booked.content
    data = booked.json()
    assert "lundi 9 juin 2031, 10:00" in data["appointment"]["when"].lower()
    assert data["message"]["text"].startswith("Demande de rendez-vous")
    appointment = Appointment.objects.get()
    assert appointment.device.serial_number == "W1DGT"
    assert appointment.conversation.messages.filter(
        text__startswith="Demande de rendez-vous"
    ).exists()
    # Sent again (a retry): the same booking, not a second one.
    again = client.post(
        "/widget/api/appointments", body, content_type="application/json", **headers
    )
    assert (
        again.status_code == 200
        and again.json()["appointment"]["reference"] == appointment.reference
    )
    # Another visitor for the same slot: refused, their request kept for an agent.
    other = widget_session(Client(), brand)
    taken = Client().post(
        "/widget/api/appointments",
        body | {"client_id": "0a0d3f5e-8a57-4c4f-9a51-7c1f0e9a2b11"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {other['token']}",
    )
    assert taken.status_code == 409 and taken.json()["code"] == "slot_taken"
    assert Appointment.objects.count() == 1


def test_the_widget_hides_the_picker_of_a_brand_without_a_shop(client, brand):
    session = widget_session(client, brand)
    assert session["brand"]["appointments"] is False
    headers = {"HTTP_AUTHORIZATION": f"Bearer {session['token']}"}
    response = client.post(
        "/widget/api/appointments/slots", {}, content_type="application/json", **headers
    )
    assert response.status_code == 404
    bad = client.post(
        "/widget/api/appointments",
        {"starts_at": "soon"},
        content_type="application/json",
        **headers,
    )
    assert bad.status_code == 400


def test_impossible_days_are_read_as_no_day(agent_client, client, brand, setup):
    location, service = setup
    customer = named_customer(brand)
    appointment = book_appointment(location, service, MONDAY_TEN, customer=customer)
    book_url = reverse("appointments:book", kwargs={"customer_id": customer.pk})
    session = widget_session(client, brand)
    for day in ("2031-02-30", "9999-12-31", "0001-01-01", "2031-13-01", "x"):
        assert agent_client.get(book_url, {"day": day}).status_code == 200
        assert client.get(manage_path(appointment), {"day": day}).status_code == 200
        picked = client.post(
            "/widget/api/appointments/slots",
            {"day": day},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {session['token']}",
        )
        assert picked.status_code == 200 and picked.json()["day"] == "2031-06-06"


# --- Park and transfer at the desk -----------------------------------------------------------


def test_staff_put_a_customer_on_hold_then_back_in_line_at_their_place(
    agent_client, agent, brand, setup
):
    location, service = setup
    add_staff(location, agent, desk="Comptoir 2")
    appointment = book_appointment(location, service, MONDAY_TEN, customer=named_customer(brand))
    with time_machine.travel(paris(2031, 6, 9, 9, 55), tick=False):
        agent_client.force_login(agent.user)
        check_in(appointment)
        hugo = add_walk_in(location, service, by=agent, first_name="Hugo")
        agent_client.post(reverse("appointments:call", args=[appointment.pk]))
        agent_client.post(reverse("appointments:park", args=[appointment.pk]))
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.PARKED and appointment.desk == ""
        page = agent_client.get(reverse("appointments:desk")).content.decode()
        assert 'data-testid="parked"' in page and "Léa Martin" in page
        customer_page = Client().get(manage_path(appointment)).content.decode()
        assert "en attente" in customer_page  # the customer's language: French
        agent_client.post(reverse("appointments:resume", args=[appointment.pk]))
        appointment.refresh_from_db()
        assert appointment.status == AppointmentStatus.CHECKED_IN
        # Back at the place they had: a booking queues from its slot (10:00), so Hugo,
        # here since 9:55, stays ahead.
        assert [a.pk for a in waiting_queue(location)] == [hugo.pk, appointment.pk]
        kinds = list(
            Event.objects.filter(payload__id=appointment.pk)
            .order_by("pk")
            .values_list("kind", flat=True)
        )
        assert kinds[-2:] == ["appointment.parked", "appointment.resumed"]
        again = agent_client.post(
            reverse("appointments:resume", args=[appointment.pk]), follow=True
        )
        assert "This customer is not on hold." in again.content.decode()


def test_a_customer_transferred_to_a_colleague_waits_for_them(
    agent_client, agent, colleague, brand, setup
):
    location, service = setup
    add_staff(location, agent, desk="Comptoir 1")
    add_staff(location, colleague, desk="Comptoir 2")
    screen = configure.save_service(brand, "Réparation écran", "Screen repair")
    with time_machine.travel(paris(2031, 6, 9, 9, 55), tick=False):
        agent_client.force_login(agent.user)
        lea = add_walk_in(location, service, by=agent, first_name="Léa")
        agent_client.post(reverse("appointments:call_next", args=[location.pk]))
        agent_client.post(
            reverse("appointments:transfer", args=[lea.pk]),
            {"to": colleague.pk, "service": screen.pk},
        )
        lea.refresh_from_db()
        assert (lea.status, lea.served_by, lea.service) == (
            AppointmentStatus.CHECKED_IN,
            colleague,
            screen,
        )
        event = Event.objects.get(kind="appointment.transferred")
        assert event.payload["previous_service_id"] == service.pk
        assert event.payload["previous_served_by_id"] == agent.pk
        # She waits for the colleague: the agent's "call next" finds nobody for them.
        assert call_next(location, agent) is None
        assert call_next(location, colleague).pk == lea.pk


def test_a_transfer_names_a_colleague_of_the_location_and_of_the_brand(
    agent_client, agent, colleague, brand, other_brand, setup
):
    location, service = setup
    add_staff(location, agent)
    outsider = make_agent(other_brand)
    with time_machine.travel(paris(2031, 6, 9, 9, 55), tick=False):
        agent_client.force_login(agent.user)
        lea = add_walk_in(location, service, by=agent, first_name="Léa")
        url = reverse("appointments:transfer", args=[lea.pk])
        assert agent_client.post(url, {"to": outsider.pk}).status_code == 404
        refused = agent_client.post(url, {"to": colleague.pk}, follow=True)  # not at the shop
        assert "Choose a staff member of this location." in refused.content.decode()
        lea.refresh_from_db()
        assert lea.served_by is None and lea.status == AppointmentStatus.CHECKED_IN


# --- Photos with the booking -----------------------------------------------------------------


def test_photos_sent_with_a_widget_booking_are_shown_to_staff_on_the_device_page(
    client, agent_client, brand, setup
):
    _, service = setup
    session = widget_session(client, brand)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {session['token']}"}
    photo = SimpleUploadedFile("ecran.png", PNG_PIXEL, content_type="image/png")
    booked = client.post(
        "/widget/api/appointments",
        {
            "service_id": service.pk,
            "starts_at": "2031-06-09T10:00:00+02:00",
            "serial_number": "PH0T0",
            "client_id": "0b5e8b0c-3f5b-4b7e-9d7c-2d6b9d4f1a01",
            "files": [photo],
        },
        **headers,
    )
    assert booked.status_code == 201, booked.content
    appointment = Appointment.objects.get(device__serial_number="PH0T0")
    [attachment] = appointment.request_message.attachments.all()
    assert attachment.content_type == "image/png"
    page = agent_client.get(reverse("appointments:device", args=[appointment.device_id]))
    assert reverse("console:attachment", args=[attachment.pk]) in page.content.decode()
    # The customer's own page never shows them.
    assert "console/attachments" not in client.get(manage_path(appointment)).content.decode()


def test_a_file_the_policy_refuses_refuses_the_booking(client, brand, setup):
    _, service = setup
    session = widget_session(client, brand)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {session['token']}"}
    script = SimpleUploadedFile("photo.html", b"<script>x</script>", content_type="text/html")
    refused = client.post(
        "/widget/api/appointments",
        {
            "service_id": service.pk,
            "starts_at": "2031-06-09T10:00:00+02:00",
            "client_id": "0b5e8b0c-3f5b-4b7e-9d7c-2d6b9d4f1a02",
            "files": [script],
        },
        **headers,
    )
    assert refused.status_code == 415 and refused.json()["code"] == "file_type_refused"
    assert not Appointment.objects.exists()
