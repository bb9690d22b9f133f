"""The console's thread in a real Chromium: a conversation opens at its last message, also when
its pictures load after the page, on a desktop screen and on a phone-sized one. Screenshots:
``var/screenshots/thread-*.png``."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import Site
from tests.test_administration_browser import sign_in
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, SERVER_WAIT
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.live]

LONG_CONVERSATION = (
    "import json; from comptoir.tenancy.models import Brand; "
    "from comptoir.conversations.inbound import InboundAttachment; "
    "from tests.factories import ingest_chat; from tests.test_browser import tiny_png; "
    "brand = Brand.objects.get(slug='maison-demo'); visitor = 'a' * 32; "
    "photo = lambda n: [InboundAttachment(f'photo{n}.png', 'image/png', tiny_png(480, 360))]; "
    "messages = [ingest_chat(brand, f'Message {n}', visitor_id=visitor, "
    "attachments=photo(n) if n % 6 == 0 else None) for n in range(1, 31)]; "
    "print(json.dumps({'id': messages[-1].conversation_id}))"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("layout-site"))
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    conversation_id = site.python(LONG_CONVERSATION)["id"]
    server = site.start_server()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield server, conversation_id
    site.stop()


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("desktop", {"width": 1280, "height": 720}), ("phone", {"width": 390, "height": 844})],
)
def test_a_conversation_opens_at_its_last_message(demo, name, viewport):
    server, conversation_id = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=viewport, locale="en-GB")
        page.set_default_timeout(SERVER_WAIT)  # a cap for a busy machine, not a wait
        sign_in(page, server, "camille")
        page.goto(f"{server}/console/c/{conversation_id}/")
        # Every picture the browser loads is loaded: the heights they add are known. Pictures
        # are lazy: one scrolled out above may never load, and must not be waited for.
        # (Polled from the test, not wait_for_function: the console's CSP forbids its eval.)
        wait_until(
            lambda: page.evaluate(
                "[...document.querySelectorAll('#timeline img')]"
                ".every(i => i.complete || i.getBoundingClientRect().bottom <= 0)"
            ),
            "every picture in view loaded",
        )
        last = page.locator("#timeline .message", has_text="Message 30")
        expect(last).to_be_in_viewport()
        expect(
            page.locator("#timeline .message", has_text="Message 1").first
        ).not_to_be_in_viewport()
        page.screenshot(path=SCREENSHOTS / f"thread-{name}.png")
        browser.close()
