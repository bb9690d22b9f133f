"""Business-hours arithmetic (``comptoir.sla.calendars``): pure functions, no database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from comptoir.sla.calendars import (
    Calendar,
    CalendarError,
    add_business_seconds,
    always_open,
    business_seconds_between,
    is_open,
    next_closing,
    next_opening,
)
from comptoir.sla.ical import ICalError, parse_ical

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600.0

# Monday to Friday 09:00-12:30 and 14:00-18:00 (a lunch break), Saturday 10:00-13:00.
WEEKDAY = ((time(9), time(12, 30)), (time(14), time(18)))
SHOP = Calendar(
    PARIS,
    {0: WEEKDAY, 1: WEEKDAY, 2: WEEKDAY, 3: WEEKDAY, 4: WEEKDAY, 5: ((time(10), time(13)),)},
)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def test_within_one_interval():
    # Tuesday 2 June 2026
    assert business_seconds_between(SHOP, paris(2026, 6, 2, 9), paris(2026, 6, 2, 11)) == 2 * HOUR
    assert add_business_seconds(SHOP, paris(2026, 6, 2, 9), 2 * HOUR) == paris(2026, 6, 2, 11)


def test_the_lunch_break_does_not_count():
    start, end = paris(2026, 6, 2, 12), paris(2026, 6, 2, 15)
    assert business_seconds_between(SHOP, start, end) == 1.5 * HOUR
    assert add_business_seconds(SHOP, start, HOUR) == paris(2026, 6, 2, 14, 30)
    assert not is_open(SHOP, paris(2026, 6, 2, 13))
    assert next_opening(SHOP, paris(2026, 6, 2, 13)) == paris(2026, 6, 2, 14)
    assert next_closing(SHOP, paris(2026, 6, 2, 10)) == paris(2026, 6, 2, 12, 30)


def test_across_the_weekend():
    # Friday 5 June 2026 17:00 + 3 h: 1 h Friday, 3 h Saturday morning is enough? No: 2 h left
    # → Saturday 10:00-12:00.
    friday = paris(2026, 6, 5, 17)
    assert add_business_seconds(SHOP, friday, 3 * HOUR) == paris(2026, 6, 6, 12)
    # 5 h: Friday 1 h, Saturday 3 h, Monday 1 h.
    assert add_business_seconds(SHOP, friday, 5 * HOUR) == paris(2026, 6, 8, 10)
    assert business_seconds_between(SHOP, friday, paris(2026, 6, 8, 10)) == 5 * HOUR
    assert not is_open(SHOP, paris(2026, 6, 7, 11))  # Sunday
    assert next_opening(SHOP, paris(2026, 6, 6, 13, 30)) == paris(2026, 6, 8, 9)


def test_a_holiday_is_skipped():
    # Thursday 14 July 2026 is Bastille Day.
    holiday = Calendar(SHOP.zone, SHOP.week, holidays=frozenset({date(2026, 7, 14)}))
    monday_evening = paris(2026, 7, 13, 17)
    assert add_business_seconds(holiday, monday_evening, 2 * HOUR) == paris(2026, 7, 15, 10)
    assert business_seconds_between(holiday, monday_evening, paris(2026, 7, 15, 10)) == 2 * HOUR
    assert not is_open(holiday, paris(2026, 7, 14, 10))
    assert next_opening(holiday, paris(2026, 7, 14, 10)) == paris(2026, 7, 15, 9)


def test_a_timed_closure_is_skipped():
    closed = (paris(2026, 6, 2, 15), paris(2026, 6, 2, 16, 30))
    calendar = Calendar(SHOP.zone, SHOP.week, closures=(closed,))
    assert business_seconds_between(calendar, paris(2026, 6, 2, 14), paris(2026, 6, 2, 18)) == (
        2.5 * HOUR
    )
    assert next_opening(calendar, paris(2026, 6, 2, 15, 10)) == paris(2026, 6, 2, 16, 30)


def test_hours_are_local_across_the_dst_change():
    # Paris goes from UTC+1 to UTC+2 on Sunday 29 March 2026, 02:00 → 03:00.
    before = paris(2026, 3, 27, 9)  # Friday, UTC+1: 08:00 UTC
    after = paris(2026, 3, 30, 9)  # Monday, UTC+2: 07:00 UTC
    assert before.astimezone(UTC).hour == 8 and after.astimezone(UTC).hour == 7
    # Friday 17:00 + 2 h of business time: Friday's last hour, then Saturday 10:00-11:00.
    assert add_business_seconds(SHOP, paris(2026, 3, 27, 17), 2 * HOUR) == paris(2026, 3, 28, 11)
    # Saturday 12:00 + 2 h: Saturday's last hour, then Monday 09:00-10:00 local (UTC+2).
    due = add_business_seconds(SHOP, paris(2026, 3, 28, 12), 2 * HOUR)
    assert due == paris(2026, 3, 30, 10)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_a_round_the_clock_day_has_23_hours_when_the_clocks_go_forward():
    calendar = always_open("Europe/Paris")
    sunday = paris(2026, 3, 29, 0)
    monday = paris(2026, 3, 30, 0)
    assert business_seconds_between(calendar, sunday, monday) == 23 * HOUR
    # And 25 hours when they go back (Sunday 25 October 2026).
    assert business_seconds_between(calendar, paris(2026, 10, 25), paris(2026, 10, 26)) == 25 * HOUR


def test_opening_at_a_time_that_does_not_exist():
    # Opening at 02:30 on the spring-forward night (02:00 → 03:00): shifted to 03:30.
    calendar = Calendar(PARIS, {6: ((time(2, 30), time(4)),)})
    opening = next_opening(calendar, paris(2026, 3, 29, 0))
    assert opening.astimezone(PARIS).time() == time(3, 30)
    assert business_seconds_between(calendar, paris(2026, 3, 29), paris(2026, 3, 29, 5)) == HOUR / 2


def test_business_seconds_and_adding_agree():
    start = paris(2026, 6, 4, 16, 17)
    for seconds in (1, 59, 3600, 7 * HOUR + 13, 40 * HOUR):
        due = add_business_seconds(SHOP, start, seconds)
        assert business_seconds_between(SHOP, start, due) == pytest.approx(seconds)
        assert is_open(SHOP, due - timedelta(seconds=1))


def test_a_calendar_without_hours_is_a_clear_error():
    empty = Calendar(PARIS, {})
    with pytest.raises(CalendarError, match="no opening hours"):
        add_business_seconds(empty, paris(2026, 6, 2, 9), HOUR)
    with pytest.raises(CalendarError, match="no opening hours"):
        is_open(empty, paris(2026, 6, 2, 9))
    with pytest.raises(CalendarError, match="no opening hours"):
        business_seconds_between(empty, paris(2026, 6, 2, 9), paris(2026, 6, 3, 9))


def test_a_calendar_that_never_opens_again_is_a_clear_error():
    only_one_day = Calendar(PARIS, {0: WEEKDAY}, holidays=frozenset())
    every_monday = frozenset(date(2026, 6, 1) + timedelta(weeks=n) for n in range(200))
    closed = Calendar(PARIS, only_one_day.week, holidays=every_monday)
    with pytest.raises(CalendarError, match="never opens"):
        next_opening(closed, paris(2026, 6, 1, 8))


def test_an_interval_ending_before_it_starts_is_refused():
    with pytest.raises(CalendarError, match="ends"):
        Calendar(PARIS, {0: ((time(18), time(9)),)})


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        is_open(SHOP, datetime(2026, 6, 2, 10))


ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Maison//Holidays//FR
BEGIN:VEVENT
UID:1@maison
DTSTART;VALUE=DATE:20260714
SUMMARY:Fete nationale
END:VEVENT
BEGIN:VEVENT
UID:2@maison
DTSTART;VALUE=DATE:20261224
DTEND;VALUE=DATE:20261227
SUMMARY:Noel
END:VEVENT
BEGIN:VEVENT
UID:3@maison
DTSTART;TZID=Europe/Paris:20260603T150000
DTEND;TZID=Europe/Paris:20260603T170000
SUMMARY:Inventaire
END:VEVENT
BEGIN:VEVENT
UID:4@maison
DTSTART:20260604T130000Z
DURATION:PT1H
SUMMARY:Formation
END:VEVENT
BEGIN:VEVENT
UID:5@maison
DTSTART;VALUE=DATE:20260501
RRULE:FREQ=YEARLY
EXDATE;VALUE=DATE:20280501
SUMMARY:Fete du travail
END:VEVENT
END:VCALENDAR
"""


def test_ical_all_day_timed_and_recurring_events():
    imported = parse_ical(ICS, PARIS)
    dates = {day: name for day, name in imported.holidays}
    assert dates[date(2026, 7, 14)] == "Fete nationale"
    assert {date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)} <= set(dates)
    assert date(2026, 12, 27) not in dates  # DTEND is exclusive
    assert date(2026, 5, 1) in dates and date(2027, 5, 1) in dates and date(2029, 5, 1) in dates
    assert date(2028, 5, 1) not in dates  # EXDATE
    closures = {name: (start, end) for start, end, name in imported.closures}
    assert closures["Inventaire"] == (paris(2026, 6, 3, 15), paris(2026, 6, 3, 17))
    assert closures["Formation"] == (
        datetime(2026, 6, 4, 13, tzinfo=UTC),
        datetime(2026, 6, 4, 14, tzinfo=UTC),
    )


def test_ical_floating_times_are_read_in_the_calendar_zone():
    ics = ICS.replace(b"DTSTART;TZID=Europe/Paris:20260603T150000", b"DTSTART:20260603T150000")
    ics = ics.replace(b"DTEND;TZID=Europe/Paris:20260603T170000", b"DTEND:20260603T170000")
    closures = {name: start for start, _, name in parse_ical(ics, PARIS).closures}
    assert closures["Inventaire"] == paris(2026, 6, 3, 15)


@pytest.mark.parametrize("data", [b"", b"hello", b"BEGIN:VCARD\r\nEND:VCARD\r\n"])
def test_ical_garbage_is_a_clear_error(data):
    with pytest.raises(ICalError):
        parse_ical(data, PARIS)
