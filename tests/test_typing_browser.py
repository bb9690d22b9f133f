"""Typing both ways and the collision warning in real Chromium pages: a visitor on the demo
shop and two agents in the same conversation. Screenshots: ``var/screenshots/typing-*.png``."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import Site
from tests.test_administration_browser import sign_in
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, SERVER_WAIT

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("typing-site"))
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    server = site.start_server()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield site, server
    site.stop()


def test_typing_shows_both_ways_and_two_agents_see_each_other(demo):
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
            "print(json.dumps({'id': Conversation.objects.latest('pk').pk}))"
        )["id"]

        agents = []
        for username in ("camille", "julien"):
            page = browser.new_context(
                viewport={"width": 1280, "height": 800}, locale="en-GB"
            ).new_page()
            page.set_default_timeout(SERVER_WAIT)
            sign_in(page, server, username)
            page.goto(f"{server}/console/c/{conversation_id}/")
            expect(page.locator("#connection-status")).to_be_hidden()
            agents.append(page)
        camille, julien = agents
        # Sockets connected (the resume answered) before anyone types.
        for page in agents:
            page.wait_for_function("document.querySelector('#composer-text') !== null")

        # Each agent is told the other has the conversation open.
        expect(camille.locator("#viewing-indicator")).to_have_text(
            "Julien Bernard also has this conversation open."
        )
        # The visitor types: the agents read it.
        visitor.get_by_test_id("comptoir-input").type("And in size M")
        indicator = camille.locator("#typing-indicator")
        expect(indicator).to_have_text("The customer is typing…")

        # Camille types a reply: the visitor sees an advisor typing, Julien is warned.
        camille.locator("#composer-text").type("Let me check the stock")
        expect(visitor.get_by_test_id("comptoir-typing")).to_have_text("An advisor is typing…")
        warning = julien.locator("#typing-indicator")
        expect(warning).to_contain_text("Camille Martin is typing here too")
        expect(warning).to_have_class("composer__typing is-collision")
        visitor.screenshot(path=SCREENSHOTS / "typing-widget.png")
        julien.screenshot(path=SCREENSHOTS / "typing-collision.png")
        browser.close()
