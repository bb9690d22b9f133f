"""Search end to end in a real Chromium: the top bar's box, highlighted results, a saved view.

A visitor writes a hostile message from the demo shop; the agent finds it by
two of its words typed without accents, sees them marked in an escaped
snippet, narrows to open conversations, saves the view and finds it under the
inbox tabs. Screenshots: ``var/screenshots/console-search.png``, ``console-inbox-views.png``.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.test_browser import (  # noqa: F401 (pytest fixtures)
    HOSTILE,
    SCREENSHOTS,
    SERVER_WAIT,
    browser,
    console_page,
    server,
    widget_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.live]


def test_an_agent_searches_sees_marked_escaped_results_and_saves_the_view(server, browser):  # noqa: F811
    visitor = widget_page(browser, server)
    visitor.get_by_test_id("comptoir-input").fill(
        f"Mon colis Zéphyrin est arrivé abîmé, la boîte était ouverte {HOSTILE}"
    )
    visitor.get_by_test_id("comptoir-send").click()
    expect(visitor.get_by_test_id("comptoir-message").filter(has_text="Zéphyrin")).to_be_visible()

    agent = console_page(browser, server)
    # The message is stored once the widget shows it; the search reads the database.
    agent.fill("#topbar-search", "zephyrin abime")
    agent.press("#topbar-search", "Enter")
    results = agent.locator("#search-results .conversation-item")
    expect(results).to_have_count(1, timeout=SERVER_WAIT)
    snippet = results.first.locator(".search__snippet")
    expect(snippet.locator("mark")).to_have_text(["Zéphyrin", "abîmé"])
    expect(snippet).to_contain_text(HOSTILE)  # shown as text, never run
    expect(agent.locator("#search-count")).to_have_text("1 conversation")

    agent.select_option("select[name=status]", "open")
    agent.click("#search-form button[type=submit]")
    expect(agent).to_have_url(re.compile(r"status=open"))
    expect(results).to_have_count(1)
    agent.fill("#view-name", "Colis abîmés")
    agent.click(".search__save button[type=submit]")
    expect(agent.locator(".flash--success")).to_contain_text("Colis abîmés")
    expect(agent.locator(".views__link.is-current")).to_have_text("Colis abîmés")
    agent.screenshot(path=SCREENSHOTS / "console-search.png", full_page=True)

    agent.goto(f"{server}/console/")
    saved = agent.locator("#inbox .views__link", has_text="Colis abîmés")
    expect(saved).to_be_visible()
    agent.screenshot(path=SCREENSHOTS / "console-inbox-views.png")
    saved.click()
    expect(results).to_have_count(1)
    assert agent.evaluate("window.__pwned") is None
