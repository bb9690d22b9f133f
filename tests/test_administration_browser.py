"""Settings in a real Chromium: the demo's administrator sets the widget's colour and greeting
(seen by a visitor), invites an agent who chooses a password from the mailed link and signs in,
adds a phone line (secret shown once) and an API token. Also the Settings on a phone-sized
screen. Screenshots: ``var/screenshots/settings-*.png``."""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.live_server import Site
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SCREENSHOTS, SERVER_WAIT
from tests.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("settings-site")
    mail_dir = folder / "sent-mail"
    mail_dir.mkdir()
    site = Site(folder, extra_env={"EMAIL_URL": f"file:{mail_dir}"})
    site.manage("migrate", "--no-input")
    site.manage("load_demo")
    server = site.start_server(options=("--worker",))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield site, server, mail_dir
    site.stop()


def sign_in(page, server: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{server}/console/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_the_administrator_runs_the_brand_from_settings(demo):
    _, server, mail_dir = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page.set_default_timeout(SERVER_WAIT)  # a cap for a busy machine, not a wait
        sign_in(page, server, "camille")  # the demo's administrator
        page.get_by_role("link", name="Settings").click()
        expect(page.get_by_role("heading", name="Brand", exact=True)).to_be_visible()

        # The widget's colour and greeting.
        page.fill("input[name=widget_color]", "#8a2be2")
        page.fill("input[name=widget_greeting_en]", "Welcome to Maison! Ask us anything.")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("alert")).to_contain_text("Brand settings saved.")
        page.screenshot(path=SCREENSHOTS / "settings-brand.png", full_page=True)

        visitor = browser.new_context(locale="en-GB").new_page()
        visitor.set_default_timeout(SERVER_WAIT)
        visitor.goto(f"{server}/demo/")
        visitor.get_by_test_id("comptoir-launcher").click()
        expect(visitor.get_by_text("Welcome to Maison! Ask us anything.")).to_be_visible()
        launcher_colour = visitor.get_by_test_id("comptoir-launcher").evaluate(
            "el => getComputedStyle(el).backgroundColor"
        )
        assert launcher_colour == "rgb(138, 43, 226)"
        visitor.screenshot(path=SCREENSHOTS / "settings-widget-colour.png")

        # An invitation, mailed by the worker.
        page.get_by_role("link", name="Agents").click()
        page.fill("input[name=email]", "lea@maison-demo.invalid")
        page.fill("input[name=first_name]", "Léa")
        page.fill("input[name=last_name]", "Moreau")
        page.select_option("select[name=role]", "agent")
        page.get_by_role("button", name="Invite").click()
        expect(page.get_by_role("alert")).to_contain_text("lea@maison-demo.invalid is invited")
        expect(page.locator("tr", has_text="Léa Moreau")).to_contain_text("Invited")
        page.screenshot(path=SCREENSHOTS / "settings-agents.png", full_page=True)
        mails = wait_until(lambda: list(mail_dir.glob("*.log")), "the invitation mail")
        text = "".join(path.read_text() for path in mails)
        link = re.search(r"http://\S+/console/password/\S+/", text).group(0)

        newcomer = browser.new_context(locale="en-GB").new_page()
        newcomer.set_default_timeout(SERVER_WAIT)
        newcomer.goto(link)
        expect(newcomer.get_by_role("heading", name="Choose your password")).to_be_visible()
        newcomer.screenshot(path=SCREENSHOTS / "settings-password-set.png")
        newcomer.fill("input[name=new_password1]", "Léa-chooses-a-long-one-42")
        newcomer.fill("input[name=new_password2]", "Léa-chooses-a-long-one-42")
        newcomer.get_by_role("button", name="Set my password").click()
        expect(newcomer.get_by_text("Your password is set.")).to_be_visible()
        sign_in(newcomer, server, "lea@maison-demo.invalid", "Léa-chooses-a-long-one-42")
        expect(newcomer.locator(".topbar__agent")).to_have_text("Léa Moreau")
        # An agent has no Settings.
        expect(newcomer.get_by_role("link", name="Settings")).to_have_count(0)

        # A phone line: its webhook secret is shown once.
        page.get_by_role("link", name="Channels").click()
        page.get_by_role("link", name="Add a phone line").click()
        page.fill("input[name=number]", "+33 1 80 00 00 77")
        page.fill("input[name=label]", "After-sales")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Copy it now: it will not be shown again.")).to_be_visible()
        secret = page.locator("[data-secret]").inner_text()
        assert len(secret) > 30
        page.screenshot(path=SCREENSHOTS / "settings-phone-secret.png", full_page=True)
        page.get_by_role("navigation").get_by_role("link", name="Channels").click()
        expect(page.locator("tr", has_text="+33180000077")).to_contain_text("After-sales")
        assert secret not in page.content()
        page.screenshot(path=SCREENSHOTS / "settings-channels.png", full_page=True)

        # An API token: shown once.
        page.get_by_role("link", name="API tokens").click()
        page.fill("input[name=name]", "CRM sync")
        page.get_by_role("button", name="Create the token").click()
        key = page.locator("[data-secret]").inner_text()
        assert key.startswith("cpt_")
        page.screenshot(path=SCREENSHOTS / "settings-tokens.png", full_page=True)
        page.reload()
        expect(page.locator("tr", has_text="CRM sync")).to_be_visible()
        assert key not in page.content()
        browser.close()


def assert_fits(page) -> None:
    """Nothing wider than the screen: no sideways scrolling of the whole page."""
    wider = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
            .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(el => !el.closest(".settings__table"))
            .map(el => el.tagName + "." + el.className).slice(0, 5)"""
    )
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen: {wider}"


def tabs_on_one_line(page) -> bool:
    """The four tabs side by side, none cut off (no scrolling of the tab row)."""
    tops = page.evaluate(
        "[...document.querySelectorAll('.tabs .tab')].map(t => t.getBoundingClientRect().top)"
    )
    cut = page.evaluate("(t => t.scrollWidth - t.clientWidth)(document.querySelector('.tabs'))")
    assert len(tops) == 4 and len(set(tops)) == 1, tops
    assert cut <= 0, f"the tabs need {cut} px more"
    return True


def test_the_top_bar_and_the_inbox_tabs_fit_one_line_at_1280(demo):
    _, server, _ = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720}, locale="fr-FR")
        page.set_default_timeout(SERVER_WAIT)
        sign_in(page, server, "camille")
        expect(page.locator(".tabs .tab")).to_have_count(4)
        page.screenshot(path=SCREENSHOTS / "console-1280.png")
        topbar = page.locator(".topbar").bounding_box()
        assert topbar["height"] <= 53, f"the top bar is {topbar['height']} px high"
        assert_fits(page)
        assert tabs_on_one_line(page)
        browser.close()


def test_settings_and_the_inbox_fit_a_phone_sized_screen(demo):
    _, server, _ = demo
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-GB")
        page.set_default_timeout(SERVER_WAIT)
        sign_in(page, server, "camille")
        page.goto(f"{server}/console/settings/agents/")
        expect(page.get_by_role("heading", name="Agents", exact=True)).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "settings-phone.png", full_page=True)
        assert_fits(page)
        page.goto(f"{server}/console/")
        page.screenshot(path=SCREENSHOTS / "console-phone.png", full_page=True)
        assert_fits(page)
        assert tabs_on_one_line(page)
        browser.close()
