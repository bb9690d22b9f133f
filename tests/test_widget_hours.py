"""The widget's header shows the brand's opening hours and, while closed, when it is back."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.urls import reverse

from tests.sla_helpers import office_calendar

PARIS = ZoneInfo("Europe/Paris")


def opening(client, brand, language: str) -> dict:
    return client.post(
        reverse("widget:session"), {"brand": brand.slug, "language": language}, "application/json"
    ).json()["opening"]


def test_a_brand_without_calendar_shows_no_hours(client, brand):
    english = opening(client, brand, "en")
    assert english["hours"] == "" and english["offline"] == ""


def test_hours_in_both_languages_and_no_offline_line_while_open(client, brand):
    office_calendar(brand)
    with time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=PARIS), tick=False):  # Wednesday
        english, french = opening(client, brand, "en"), opening(client, brand, "fr")
    assert english["hours"].startswith("Open Mon\u2013Fri ")
    assert french["hours"].startswith("Ouvert lun\u2013ven ")
    assert "14:00\u201318:00" in french["hours"]
    assert english["offline"] == "" and french["offline"] == ""


def test_closed_says_when_the_team_is_back(client, brand):
    office_calendar(brand)
    with time_machine.travel(datetime(2026, 12, 5, 10, 0, tzinfo=PARIS), tick=False):  # Saturday
        english, french = opening(client, brand, "en"), opening(client, brand, "fr")
    assert english["offline"].startswith("We are closed at the moment: leave a message")
    assert "Dec. 7, 2026" in english["offline"]
    assert french["offline"].startswith("Nous sommes fermés pour le moment")
    assert "7 décembre 2026" in french["offline"] and "09:00" in french["offline"]
