"""Surveys and reports in a real Chromium: a visitor answers the inline survey after their chat
is resolved; the supervisor reads the reports page (figures, charts, the follow-up of the
unhappy visitor), drills down and downloads the CSV. Screenshots: ``var/screenshots/``."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import Site
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SCREENSHOTS, SERVER_WAIT

pytestmark = [pytest.mark.browser, pytest.mark.live]

SURVEYS_ON = (
    "import json; from comptoir.tenancy.models import Brand; "
    "from comptoir.surveys.models import SurveySettings; "
    "brand = Brand.objects.get(slug='maison-demo'); "
    "SurveySettings.objects.create(brand=brand, channels=['webchat', 'email'], "
    "question_en='How satisfied are you with our help?', question_fr='Êtes-vous satisfait ?'); "
    "print(json.dumps({}))"
)
RESOLVE_LATEST = (
    "import json; from comptoir.tenancy.models import Membership; "
    "from comptoir.conversations.models import Conversation; "
    "from comptoir.conversations.actions import send_reply, resolve_conversation; "
    "julien = Membership.objects.get(user__username='julien'); "
    "c = Conversation.objects.filter(brand=julien.brand).latest('pk'); "
    "send_reply(julien, c, 'It leaves today.'); resolve_conversation(julien, c); "
    "print(json.dumps({'id': c.pk}))"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("reports-site"))
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    site.python(SURVEYS_ON)
    server = site.start_server(options=("--worker",))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield site, server
    site.stop()


def test_the_visitor_answers_inline_and_the_supervisor_reads_the_reports(demo):
    site, server = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        visitor = browser.new_context(locale="en-GB").new_page()
        visitor.set_default_timeout(SERVER_WAIT)  # a cap for a busy machine, not a wait
        visitor.goto(f"{server}/demo/")
        visitor.get_by_test_id("comptoir-launcher").click()
        composer = visitor.get_by_test_id("comptoir-input")
        composer.fill("Where is my parcel?")
        composer.press("Enter")
        expect(visitor.get_by_text("Where is my parcel?")).to_be_visible(timeout=SERVER_WAIT)
        conversation_id = site.python(RESOLVE_LATEST)["id"]

        survey = visitor.get_by_test_id("comptoir-survey")
        expect(survey).to_be_visible(timeout=SERVER_WAIT)
        survey.locator("[data-score='2']").first.click()
        survey.get_by_role("textbox").fill("Far too slow")
        visitor.screenshot(path=SCREENSHOTS / "widget-survey.png")
        survey.get_by_role("button", name="Send my answer").click()
        expect(visitor.get_by_text("Thank you for your answer!")).to_be_visible(timeout=SERVER_WAIT)
        expect(survey).to_have_count(0)

        page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="en-GB")
        page.set_default_timeout(SERVER_WAIT)
        page.goto(f"{server}/console/login/")
        page.fill("input[name=username]", "julien")  # the demo's supervisor
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.get_by_role("link", name="Reports").click()
        expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
        expect(page.locator("[data-measure=csat]")).to_have_text("0.0 %")
        expect(page.locator("[data-measure=response_rate]")).to_have_text("100.0 %")
        follow_ups = page.locator(".reports__follow-ups")
        expect(follow_ups).to_contain_text("Far too slow")
        # Days, channels, scores, backlog per day, teams.
        expect(page.locator("svg.chart")).to_have_count(5)
        for measure in ("next_response_seconds", "wait_seconds", "sla_rate", "backlog"):
            expect(page.locator(f"[data-measure={measure}]")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "console-reports.png", full_page=True)

        page.get_by_role("link", name="Resolved").first.click()
        drill = page.locator(".reports__drill")
        expect(drill.get_by_role("link", name=f"#{conversation_id}")).to_be_visible()

        with page.expect_download() as download:
            page.get_by_role("link", name="CSV: conversations").click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
        mine = [row for row in rows if row["conversation_id"] == str(conversation_id)]
        assert mine and mine[0]["csat"] == "2" and mine[0]["channel"] == "webchat"

        follow_ups.get_by_role("button", name="Done").first.click()
        expect(page.locator(".reports__follow-ups")).to_have_count(0)
        browser.close()
