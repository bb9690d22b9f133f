"""Tags in a real Chromium: an agent tags the conversation open, the chip appears in the thread
and the inbox, then ticks two conversations of the inbox and tags both at once. Screenshots:
``var/screenshots/tags-*.png``."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import Site
from tests.test_administration_browser import sign_in
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, SERVER_WAIT

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("tags-site"))
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    server = site.start_server()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield site, server
    site.stop()


def test_an_agent_tags_a_conversation_then_two_at_once_from_the_inbox(demo):
    _, server = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="en-GB")
        page.set_default_timeout(SERVER_WAIT)  # a cap for a busy machine, not a wait
        sign_in(page, server, "sophie")  # an agent
        page.get_by_role("tab", name="All open").click()
        page.locator(".conversation-item", has_text="Thomas Lefèvre").click()

        page.fill("#tag-name", "Fragile")
        page.press("#tag-name", "Enter")
        expect(page.locator(".thread__tags [data-tag]")).to_contain_text(["Fragile"])
        thomas = page.locator(".conversation-row", has_text="Thomas Lefèvre")
        expect(thomas.locator("[data-tag]")).to_have_text(["Fragile"])
        page.screenshot(path=SCREENSHOTS / "tags-thread.png")

        rows = page.locator(".conversation-row")
        rows.nth(0).locator(".conversation-tick").check()
        rows.nth(1).locator(".conversation-tick").check()
        page.select_option("#bulk-action", "tag")
        page.fill("#bulk-tag", "Lot")
        page.get_by_role("button", name="Apply").click()
        expect(page.locator(".conversation-row [data-tag]", has_text="Lot")).to_have_count(2)
        page.screenshot(path=SCREENSHOTS / "tags-bulk.png")
        browser.close()
