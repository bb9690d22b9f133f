"""End to end in a real Chromium: visitor ↔ agent through a real server, live.

The visitor writes from the demo shop with a photo; the agent, already looking
at the console, sees it arrive without reloading, replies, and the visitor sees
the reply. Hostile text and file names must show as text and never run.
Screenshots land in ``var/screenshots/``.
"""

import struct
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.live_server import Site

pytestmark = [pytest.mark.browser, pytest.mark.live]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SCREENSHOTS = Path.cwd() / "var" / "screenshots"
# How long an assertion may wait for what the server does (a live event, the
# assistant's models, a reconnection). Only a cap: the assertion returns as soon
# as the page shows it, so it is generous enough for a busy 2-core machine.
SERVER_WAIT = 120_000  # ms
PASSWORD = "demo-comptoir-2026"
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
# Browsers cut file names at "/" and escape quotes on upload, so this one has neither.
HOSTILE_FILE_NAME = "<img src=x onerror=window.__pwned=3>.png"


def tiny_png(width: int = 24, height: int = 16) -> bytes:
    """A valid PNG (orange rectangle), like a photo from a phone camera but small."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\xe0\x8a\x3c" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("browser-site"))
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    url = site.start_server()
    yield url
    site.stop()


@pytest.fixture(scope="module")
def browser():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def no_dialogs(page: Page) -> None:
    def fail(dialog):
        dialog.dismiss()
        raise AssertionError(f"a script ran and opened a dialog: {dialog.message}")

    page.on("dialog", fail)


def console_page(browser, server: str) -> Page:
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-GB")
    no_dialogs(page)
    page.goto(f"{server}/console/login/")
    page.fill("input[name=username]", "camille")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#inbox")).to_be_visible()
    return page


def widget_page(browser, server: str, **context_options) -> Page:
    context = browser.new_context(locale="fr-FR", **context_options)
    page = context.new_page()
    no_dialogs(page)
    page.goto(f"{server}/demo/")
    page.get_by_test_id("comptoir-launcher").click()
    expect(page.get_by_test_id("comptoir-panel")).to_be_visible()
    return page


def test_visitor_and_agent_talk_live(server, browser):
    agent = console_page(browser, server)
    visitor = widget_page(browser, server)

    visitor.get_by_test_id("comptoir-input").fill("Bonjour, mon colis est abîmé, voici une photo.")
    visitor.get_by_test_id("comptoir-file-input").set_input_files(
        {"name": "colis.png", "mimeType": "image/png", "buffer": tiny_png()}
    )
    visitor.get_by_test_id("comptoir-send").click()
    sent = visitor.get_by_test_id("comptoir-message").filter(has_text="mon colis est abîmé")
    expect(sent).not_to_have_attribute("data-pending", "true", timeout=SERVER_WAIT)
    expect(sent.locator("img")).to_be_visible()
    visitor.wait_for_function(
        """() => [...document.querySelector("#comptoir-widget").shadowRoot
                     .querySelectorAll("img.thumb")].some((img) => img.naturalWidth > 0)""",
        timeout=SERVER_WAIT,
    )  # the photo really loaded (fetched with the token in a header, shown from a blob)
    expect(visitor.get_by_test_id("comptoir-status")).not_to_be_empty()
    visitor.screenshot(path=SCREENSHOTS / "widget-sent.png")

    # The agent did not reload: the conversation arrives in the inbox by itself.
    item = agent.locator(".conversation-item", has_text="mon colis est abîmé")
    expect(item).to_be_visible(timeout=SERVER_WAIT)
    item.click()
    expect(agent.locator(".message__text", has_text="mon colis est abîmé")).to_be_visible()
    expect(agent.locator(".attachment img")).to_be_visible()
    agent.fill("#composer-text", "Bonjour ! Désolée pour le colis, nous vous renvoyons l'article.")
    agent.click("#composer button[type=submit]")
    sent_reply = agent.locator(".message--agent", has_text="nous vous renvoyons")
    expect(sent_reply).to_be_visible(timeout=SERVER_WAIT)
    agent.screenshot(path=SCREENSHOTS / "console-conversation.png")

    reply = visitor.get_by_test_id("comptoir-message").filter(has_text="nous vous renvoyons")
    expect(reply).to_be_visible(timeout=SERVER_WAIT)
    expect(reply).to_have_attribute("data-author", "agent")
    visitor.screenshot(path=SCREENSHOTS / "widget-reply.png")


def test_hostile_text_and_file_names_never_run(server, browser):
    agent = console_page(browser, server)
    visitor = widget_page(browser, server, viewport={"width": 390, "height": 844})

    visitor.get_by_test_id("comptoir-input").fill(f"XSS-TEST {HOSTILE}")
    visitor.get_by_test_id("comptoir-file-input").set_input_files(
        {"name": HOSTILE_FILE_NAME, "mimeType": "image/png", "buffer": tiny_png()}
    )
    visitor.get_by_test_id("comptoir-send").click()
    sent = visitor.get_by_test_id("comptoir-message").filter(has_text="XSS-TEST")
    expect(sent).to_contain_text(HOSTILE)
    visitor.screenshot(path=SCREENSHOTS / "widget-phone-hostile.png")

    item = agent.locator(".conversation-item", has_text="XSS-TEST")
    expect(item).to_be_visible(timeout=SERVER_WAIT)
    item.click()
    expect(agent.locator(".message__text", has_text="XSS-TEST")).to_contain_text(HOSTILE)
    expect(agent.locator(".attachment__name")).to_have_text(HOSTILE_FILE_NAME)
    agent.fill("#composer-text", f"Agent says {HOSTILE}")
    agent.click("#composer button[type=submit]")
    expect(
        visitor.get_by_test_id("comptoir-message").filter(has_text="Agent says")
    ).to_contain_text(HOSTILE, timeout=SERVER_WAIT)
    expect(agent.locator(".message--agent", has_text="Agent says")).to_contain_text(
        HOSTILE, timeout=SERVER_WAIT
    )
    agent.screenshot(path=SCREENSHOTS / "console-hostile.png")

    for page in (visitor, agent):
        assert page.evaluate("window.__pwned") is None


REPLY_WHILE_DOWN = """
import json
from comptoir.conversations.actions import send_reply
from comptoir.conversations.models import Message
from comptoir.tenancy.models import Membership
message = Message.objects.get(text="Vous êtes toujours là ?")
send_reply(Membership.objects.get(user__username="camille"), message.conversation, {text!r})
print(json.dumps({{"conversation": message.conversation_id}}))
"""


def test_widget_and_console_catch_up_after_the_server_restarts(browser, tmp_path):
    """The server goes away; a reply is written meanwhile; both pages reconnect and show it."""
    site = Site(tmp_path)
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    server = site.start_server()
    try:
        agent = console_page(browser, server)
        visitor = widget_page(browser, server)
        visitor.get_by_test_id("comptoir-input").fill("Vous êtes toujours là ?")
        visitor.get_by_test_id("comptoir-send").click()
        arrived = agent.locator(".conversation-item", has_text="toujours là")
        expect(arrived).to_be_visible(timeout=SERVER_WAIT)

        site.stop()  # both sockets drop
        site.python(REPLY_WHILE_DOWN.format(text="Oui, réponse écrite pendant la coupure."))
        site.start_server(port=int(server.rsplit(":", 1)[1]))

        reply = visitor.get_by_test_id("comptoir-message").filter(has_text="pendant la coupure")
        expect(reply).to_be_visible(timeout=SERVER_WAIT)
        excerpt = agent.locator(".conversation-item", has_text="pendant la coupure")
        expect(excerpt).to_be_visible(timeout=SERVER_WAIT)
        visitor.screenshot(path=SCREENSHOTS / "widget-after-restart.png")
    finally:
        site.stop()
