"""An unread count in the console tab's title for new messages in the agent's conversations,
cleared when the conversation is opened (real Chromium, the demo site)."""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import Site
from tests.test_administration_browser import sign_in
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SERVER_WAIT

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("notifications-site"))
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    server = site.start_server()
    yield site, server
    site.stop()


def test_the_tab_title_counts_new_messages_in_my_conversations(demo):
    site, server = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        visitor = browser.new_context(locale="en-GB").new_page()
        visitor.set_default_timeout(SERVER_WAIT)  # a cap for a busy machine, not a wait
        visitor.goto(f"{server}/demo/")
        visitor.get_by_test_id("comptoir-launcher").click()
        widget_input = visitor.get_by_test_id("comptoir-input")
        widget_input.fill("Is the linen shirt available in blue?")
        widget_input.press("Enter")
        expect(visitor.get_by_text("Is the linen shirt available in blue?")).to_be_visible()
        conversation_id = site.python(
            "import json; from comptoir.conversations.models import Conversation; "
            "from comptoir.routing.assignment import assign_conversation; "
            "from comptoir.tenancy.models import Membership; "
            "c = Conversation.objects.latest('pk'); "
            "m = Membership.objects.get(user__username='camille', brand=c.brand); "
            "assign_conversation(m, c, m); "
            "print(json.dumps({'id': c.pk}))"
        )["id"]

        agent = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
        page = agent.new_page()
        page.set_default_timeout(SERVER_WAIT)
        sign_in(page, server, "camille")
        page.goto(f"{server}/console/")
        expect(page.locator("#connection-status")).to_be_hidden()
        expect(page).not_to_have_title(re.compile(r"^\("))
        # The socket answered its resume (the inbox shows the conversation) before the customer
        # writes again.
        expect(page.locator(f'[data-conversation-id="{conversation_id}"]').first).to_be_visible()

        widget_input.fill("And in size M?")
        widget_input.press("Enter")
        expect(page).to_have_title(re.compile(r"^\(1\) "))
        widget_input.fill("Thanks!")
        widget_input.press("Enter")
        expect(page).to_have_title(re.compile(r"^\(2\) "))

        # Opened: the count clears, on this page and the next.
        page.goto(f"{server}/console/c/{conversation_id}/")
        expect(page.locator("#composer-text")).to_be_visible()
        expect(page).not_to_have_title(re.compile(r"^\("))
        page.goto(f"{server}/console/")
        expect(page).not_to_have_title(re.compile(r"^\("))
        browser.close()
