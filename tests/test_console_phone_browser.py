"""The console at 1280x720 and on a phone (390x844) in a real Chromium: the top bar fits, the
inbox tabs stay on one line, and the assistant's summary card folds (remembered per agent).
Screenshots: ``var/screenshots/console-*.png``."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import Site
from tests.test_administration_browser import sign_in
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, SERVER_WAIT

pytestmark = [pytest.mark.browser, pytest.mark.live]

HANDED_OFF = (
    "import json; from comptoir.tenancy.models import Brand; "
    "from comptoir.assistant.models import ConversationState; "
    "from comptoir.conversations.actions import add_note; "
    "from comptoir.conversations.models import AuthorKind; "
    "from tests.factories import ingest_chat; "
    "brand = Brand.objects.get(slug='maison-demo'); "
    "message = ingest_chat(brand, 'I want to speak to a human about order MD-10482'); "
    "c = message.conversation; "
    "note = add_note(None, c, 'Assistant handoff', author_kind=AuthorKind.BOT); "
    "ConversationState.objects.update_or_create(conversation=c, defaults={'brand': brand, "
    "'summary': {'reason': 'asked_for_human', 'intent': 'order_status', "
    "'intent_label': 'Order status', 'confidence': 0.61, 'language': 'en', 'sentiment': -0.4, "
    "'angry': False, 'vip': False, 'details': {'order_number': 'MD-10482'}, "
    "'history': [{'kind': 'answer', 'text': 'Let me look.'}], "
    "'last_message': message.text, 'routed_to': {}, 'note_id': note.pk}}); "
    "print(json.dumps({'id': c.pk}))"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("phone-site"))
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    conversation_id = site.python(HANDED_OFF)["id"]
    server = site.start_server()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield server, conversation_id
    site.stop()


def overflows(page, selector: str) -> bool:
    """Whether the element is wider than the screen (it pushes the page sideways)."""
    return page.evaluate(
        f"document.querySelector('{selector}').getBoundingClientRect().right"
        " > document.documentElement.clientWidth + 1"
    )


@pytest.mark.parametrize(
    ("name", "viewport"),
    [("desktop", {"width": 1280, "height": 720}), ("phone", {"width": 390, "height": 844})],
)
def test_the_console_fits_and_the_summary_folds(demo, name, viewport):
    server, conversation_id = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=viewport, locale="en-GB")
        page.set_default_timeout(SERVER_WAIT)  # a cap for a busy machine, not a wait
        sign_in(page, server, "camille")
        page.goto(f"{server}/console/c/{conversation_id}/")
        card = page.locator("#assistant-summary")
        expect(card).to_contain_text("Order status (fairly sure)")
        expect(card).not_to_contain_text("0.61")
        page.screenshot(path=SCREENSHOTS / f"console-{name}.png")
        # Nothing wider than the screen; the tabs on one line.
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert not overflows(page, ".topbar")
        tops = page.evaluate(
            "[...document.querySelectorAll('.tabs .tab')].map(t => t.getBoundingClientRect().top)"
        )
        assert len(set(tops)) == 1, tops

        page.locator("#assistant-summary-toggle").click()
        expect(page.locator("#assistant-summary-body")).to_be_hidden()
        expect(page.locator("#assistant-summary-toggle")).to_have_attribute(
            "aria-expanded", "false"
        )
        page.screenshot(path=SCREENSHOTS / f"console-{name}-folded.png")
        # Remembered: folded again on the next page.
        page.reload()
        expect(page.locator("#assistant-summary-body")).to_be_hidden()
        page.locator("#assistant-summary-toggle").click()
        expect(page.locator("#assistant-summary-body")).to_be_visible()
        browser.close()
