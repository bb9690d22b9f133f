"""The customer portal in a real Chromium on a phone-sized screen: sign in with the code the
worker mailed (read from a real SMTP server in the test process), see the conversations,
continue one (the agent's console shows it live), link a second brand with consent and see
both, then remove it. Screenshots: ``var/screenshots/portal-*.png``."""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import Site
from tests.smtp_server import SmtpServer
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SCREENSHOTS, SERVER_WAIT
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.live]

PAUL = "paul.portail@client.example"
PAUL_AT_RIVAL = "paul.perso@client.example"

# Paul wrote to Maison by mail; he is also a customer of a second brand on the instance.
CUSTOMERS = """
import json
from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.tenancy.models import Brand
maison = Brand.objects.get(slug="maison-demo")
rival = Brand.objects.create(name="Rival Électroménager", slug="rival")
def mail(brand, address, text):
    return ingest_message(InboundMessage(
        brand=brand, channel="email", external_id=f"<{address}@mail.example>", text=text,
        identities=[IdentityClaim("email", address, verified=True)], subject=text,
    )).message.conversation_id
print(json.dumps({
    "maison": mail(maison, "PAUL", "Mon aspirateur ne charge plus"),
    "rival": mail(rival, "PAUL_AT_RIVAL", "Facture du lave-linge"),
}))
""".replace('"PAUL_AT_RIVAL"', repr(PAUL_AT_RIVAL)).replace('"PAUL"', repr(PAUL))

CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)


@pytest.fixture(scope="module")
def portal_site(tmp_path_factory):
    smtp = SmtpServer().start()
    site = Site(
        tmp_path_factory.mktemp("portal-site"),
        extra_env={"EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}"},
    )
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    conversations = site.python(CUSTOMERS)
    server = site.start_server(options=("--worker",))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield server, smtp, conversations
    site.stop()
    smtp.stop()


def mailed_code(smtp: SmtpServer, address: str, already: int) -> str:
    """The code in the next mail to ``address`` (after the ``already`` ones received)."""
    mails = wait_until(
        lambda: [m for m in smtp.received if address in m.rcpt_tos][already:],
        f"the code mailed to {address}",
    )
    return CODE.search(mails[0].message.get_content()).group(1)


def ask_and_type_code(phone, smtp: SmtpServer, address: str, *, consent: bool = False) -> None:
    already = len([m for m in smtp.received if address in m.rcpt_tos])
    phone.get_by_test_id("address").fill(address)
    phone.get_by_test_id("send-code").click()
    expect(phone.get_by_test_id("code")).to_be_visible()
    phone.get_by_test_id("code").fill(mailed_code(smtp, address, already))
    if consent:
        phone.get_by_test_id("consent").check()
    phone.get_by_test_id("verify").click()


def test_a_customer_signs_in_by_code_continues_a_conversation_and_links_a_second_brand(
    portal_site,
):
    server, smtp, conversations = portal_site
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
        staff.goto(f"{server}/console/c/{conversations['maison']}/")
        expect(staff.locator("body")).to_contain_text("Mon aspirateur ne charge plus")

        # Sign in with the mailed code.
        phone.goto(f"{server}/me/maison-demo/")
        expect(phone.get_by_role("heading", name="Se connecter")).to_be_visible()
        phone.screenshot(path=SCREENSHOTS / "portal-sign-in.png")
        ask_and_type_code(phone, smtp, PAUL)
        brands = phone.get_by_test_id("brand")
        expect(brands).to_have_count(1)
        expect(brands.first).to_contain_text("Mon aspirateur ne charge plus")
        phone.screenshot(path=SCREENSHOTS / "portal-home.png", full_page=True)

        # Continue the conversation: the agent's open conversation shows it without a reload.
        phone.get_by_test_id("conversation").first.click()
        phone.get_by_test_id("reply").fill("Je l'ai rebranché, toujours rien")
        phone.get_by_test_id("send").click()
        expect(phone.get_by_test_id("thread")).to_contain_text("Je l'ai rebranché")
        expect(staff.locator("body")).to_contain_text("Je l'ai rebranché, toujours rien")
        # The agent answers: the phone's page shows it without a reload.
        staff.fill("#composer-text", "Essayez un autre câble, sinon passez en boutique.")
        staff.click("#composer button[type=submit]")
        expect(phone.get_by_test_id("thread")).to_contain_text("Essayez un autre câble")
        phone.screenshot(path=SCREENSHOTS / "portal-conversation.png", full_page=True)

        # Link the second brand: a code to an address it holds, and the box naming it.
        phone.goto(f"{server}/me/rival/")
        expect(phone.get_by_role("heading", name="Ajouter Rival Électroménager")).to_be_visible()
        ask_and_type_code(phone, smtp, PAUL_AT_RIVAL, consent=True)
        expect(brands).to_have_count(2)
        expect(phone.locator("[data-brand=rival]")).to_contain_text("Facture du lave-linge")
        expect(phone.locator("[data-brand=maison-demo]")).to_contain_text("Mon aspirateur")
        phone.screenshot(path=SCREENSHOTS / "portal-two-brands.png", full_page=True)

        # Removing it is immediate, and the list of links says when.
        phone.locator("[data-brand=rival]").get_by_test_id("unlink").click()
        expect(brands).to_have_count(1)
        expect(phone.get_by_test_id("links")).to_contain_text("retirée le")
        phone.goto(f"{server}/me/c/{conversations['rival']}/")
        expect(phone.locator("body")).not_to_contain_text("Facture du lave-linge")
        browser.close()
