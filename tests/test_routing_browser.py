"""Routing in a real Chromium: a waiting visitor reads their place and wait in the widget, with a
callback offered; the supervisor's live board shows a conversation that starts waiting without
a reload, and the supervisor acts on it. Screenshots: ``var/screenshots/``."""

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


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("routing-site"))
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    server = site.start_server()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield site, server
    site.stop()


def test_a_waiting_visitor_reads_their_place_and_is_offered_a_callback(demo):
    site, server = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        visitor = browser.new_context(locale="en-GB").new_page()
        visitor.set_default_timeout(SERVER_WAIT)  # a cap for a busy machine, not a wait
        visitor.goto(f"{server}/demo/")
        visitor.get_by_test_id("comptoir-launcher").click()
        composer = visitor.get_by_test_id("comptoir-input")
        composer.fill("My screen stays black")
        composer.press("Enter")
        expect(visitor.get_by_text("My screen stays black")).to_be_visible(timeout=SERVER_WAIT)
        # A handoff to a team whose members are all away: the conversation waits in line.
        site.python(
            "import json; from comptoir.tenancy.models import Brand, Team; "
            "from comptoir.conversations.models import Conversation; "
            "from comptoir.routing.assignment import route_to_person; "
            "brand = Brand.objects.get(slug='maison-demo'); "
            "team, _ = Team.objects.get_or_create(brand=brand, name='Atelier'); "
            "c = Conversation.objects.filter(brand=brand).latest('pk'); "
            "route_to_person(None, c, team=team); print(json.dumps({}))"
        )
        composer.fill("Is anyone there?")
        composer.press("Enter")
        status = visitor.get_by_test_id("comptoir-status")
        expect(status).to_contain_text("You are next in line.", timeout=SERVER_WAIT)
        expect(status).to_contain_text("No advisor is available right now")
        expect(status).to_contain_text("Rather not wait? We can call you back.")
        visitor.screenshot(path=SCREENSHOTS / "widget-waiting.png")
        browser.close()


def test_the_board_follows_the_queue_live_and_the_supervisor_acts_from_it(demo):
    site, server = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-GB")
        page.set_default_timeout(SERVER_WAIT)  # a cap for a busy machine, not a wait
        page.goto(f"{server}/console/login/")
        page.fill("input[name=username]", "julien")  # the demo's supervisor
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.get_by_role("link", name="Live board").click()
        expect(page.get_by_role("heading", name="Live board")).to_be_visible(timeout=SERVER_WAIT)

        waiting = site.python(NEW_WAITING)["id"]
        row = page.locator(f'tr[data-conversation-id="{waiting}"]')
        expect(row).to_be_visible(timeout=SERVER_WAIT)  # no reload: the board follows
        expect(page.get_by_test_id("board-summary")).to_contain_text("waiting", timeout=SERVER_WAIT)

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
