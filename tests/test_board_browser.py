"""The supervisor's live board in a real Chromium: a conversation starts waiting, the board shows
it without a reload, and the supervisor acts on it. Screenshot: ``var/screenshots/``."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import Site
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SCREENSHOTS, SERVER_WAIT

pytestmark = [pytest.mark.browser, pytest.mark.live]

NEW_WAITING = (
    "import json; from comptoir.tenancy.models import Brand, Team; "
    "from comptoir.routing.assignment import route_to_person; "
    "from tests.factories import ingest_chat; "
    "brand = Brand.objects.get(slug='maison-demo'); "
    "team, _ = Team.objects.get_or_create(brand=brand, name='Atelier'); "
    "conversation = ingest_chat(brand, 'Mon écran reste noir').conversation; "
    "route_to_person(None, conversation, team=team); "
    "print(json.dumps({'id': conversation.pk}))"
)


def test_the_board_follows_the_queue_live_and_the_supervisor_acts_from_it(tmp_path):
    site = Site(tmp_path)
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    server = site.start_server()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-GB")
            page.goto(f"{server}/console/login/")
            page.fill("input[name=username]", "julien")  # the demo's supervisor
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.get_by_role("link", name="Live board").click()
            expect(page.get_by_role("heading", name="Live board")).to_be_visible()

            waiting = site.python(NEW_WAITING)["id"]
            row = page.locator(f'tr[data-conversation-id="{waiting}"]')
            expect(row).to_be_visible(timeout=SERVER_WAIT)  # no reload: the board follows
            expect(page.get_by_test_id("board-summary")).to_contain_text("waiting")

            row.locator("select[name=priority]").select_option("3")  # urgent, submitted at once
            row = page.locator(f'tr[data-conversation-id="{waiting}"]')
            expect(row.locator("select[name=priority]")).to_have_value("3", timeout=SERVER_WAIT)
            page.screenshot(path=SCREENSHOTS / "console-board.png", full_page=True)

            row.locator("select[name=assignee]").select_option(label="Sophie Petit")
            row.get_by_role("button", name="Assign").click()
            expect(page.locator(f'tr[data-conversation-id="{waiting}"]')).to_have_count(
                0, timeout=SERVER_WAIT
            )
            browser.close()
        assignee = site.python(
            "import json; from comptoir.conversations.models import Conversation; "
            f"c = Conversation.objects.select_related('assignee__user').get(pk={waiting}); "
            "print(json.dumps({'who': c.assignee.user.username, 'priority': c.priority}))"
        )
        assert assignee == {"who": "sophie", "priority": 3}
    finally:
        site.stop()
