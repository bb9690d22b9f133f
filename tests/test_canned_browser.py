"""Canned replies in a real Chromium: a supervisor writes a shared reply with placeholders, an
agent types "/" in the reply box, picks it from the list with the keyboard, and sends it with the
customer's first name filled in. Screenshots: ``var/screenshots/canned-*.png``."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import Site
from tests.test_administration_browser import sign_in
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, SERVER_WAIT

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("canned-site"))
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    server = site.start_server()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield site, server
    site.stop()


def test_an_agent_inserts_a_shared_reply_with_slash_and_sends_it(demo):
    _, server = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        supervisor = browser.new_page(viewport={"width": 1280, "height": 800}, locale="en-GB")
        supervisor.set_default_timeout(SERVER_WAIT)  # a cap for a busy machine, not a wait
        sign_in(supervisor, server, "julien")  # the demo's supervisor
        supervisor.locator("summary.topbar__me-summary").click()
        supervisor.get_by_role("link", name="Canned replies").click()
        supervisor.fill("input[name=title]", "Delivery times")
        supervisor.fill("input[name=shortcut]", "delivery")
        supervisor.fill(
            "textarea[name=body]",
            "Hello {{ customer.first_name }}, parcels leave within 48 hours. "
            "— {{ agent.first_name }}, {{ brand.name }}",
        )
        supervisor.check("input[name=shared]")
        supervisor.get_by_role("button", name="Save").click()
        expect(supervisor.locator("tr", has_text="/delivery")).to_contain_text("The brand")
        supervisor.screenshot(path=SCREENSHOTS / "canned-list.png", full_page=True)

        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="en-GB")
        page.set_default_timeout(SERVER_WAIT)
        sign_in(page, server, "sophie")  # an agent
        page.get_by_role("tab", name="All open").click()
        item = page.locator(".conversation-item", has_text="Thomas Lefèvre")
        item.click()
        composer = page.locator("#composer-text")
        composer.click()
        composer.type("Thanks for waiting. /deli")
        picker = page.get_by_role("listbox", name="Canned replies")
        expect(picker).to_be_visible()
        expect(picker.get_by_role("option")).to_have_count(1)
        expect(picker.get_by_role("option")).to_contain_text("Delivery times")
        page.screenshot(path=SCREENSHOTS / "canned-picker.png")
        composer.press("Enter")
        expect(picker).to_be_hidden()
        expected = (
            "Thanks for waiting. Hello Thomas, parcels leave within 48 hours. — Sophie, Maison Demo"
        )
        expect(composer).to_have_value(expected)
        composer.press("Control+Enter")
        expect(page.locator(".timeline, #thread").get_by_text(expected)).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "canned-sent.png")
        browser.close()
