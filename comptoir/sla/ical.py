"""Holidays from an iCalendar file (RFC 5545), parsed with the ``icalendar`` package.

Administrators upload their public-holiday or closure calendar (exported from
their agenda, or a national holidays feed). Each VEVENT becomes:

- all-day (``DTSTART;VALUE=DATE``): one holiday per date, ``DTEND`` exclusive
  (absent: that one day);
- timed: a closure between two instants; a floating time (no zone) is read in
  the business calendar's zone, a ``TZID`` or ``Z`` time as given.

A recurring event (``RRULE``, e.g. a yearly holiday) is expanded with
``dateutil`` over ``RECURRENCE_YEARS`` from its start, ``EXDATE`` excluded.
Anything that is not a VEVENT is ignored; a file that is not iCalendar at all
is a ``ICalError`` with a reason the page shows.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from dateutil.rrule import rrulestr

RECURRENCE_YEARS = 3
# A file with more than this is a mistake (a whole agenda, not closures).
MAX_ENTRIES = 2000


class ICalError(ValueError):
    """The upload is not a usable iCalendar file; ``str(error)`` says why."""


@dataclass
class ImportedHolidays:
    holidays: list[tuple[date, str]] = field(default_factory=list)
    closures: list[tuple[datetime, datetime, str]] = field(default_factory=list)


def _as_instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=zone)).astimezone(UTC)
    return datetime.combine(value, datetime.min.time(), tzinfo=zone).astimezone(UTC)


def _occurrences(event: icalendar.Event, start: date | datetime) -> list[date | datetime]:
    rule = event.get("RRULE")
    if rule is None:
        return [start]
    rule_text = rule.to_ical().decode()
    # dateutil wants the UNTIL of a floating start floating, and of an aware start aware.
    starts = rrulestr(f"RRULE:{rule_text}", dtstart=_dtstart_for_rule(start), ignoretz=False)
    horizon = _dtstart_for_rule(start) + timedelta(days=366 * RECURRENCE_YEARS)
    excluded = set()
    for exdate in _as_list(event.get("EXDATE")):
        for item in exdate.dts:
            excluded.add(item.dt)
    found: list[date | datetime] = []
    for occurrence in starts:
        if occurrence > horizon or len(found) >= MAX_ENTRIES:
            break
        value = occurrence.date() if not isinstance(start, datetime) else occurrence
        if value not in excluded:
            found.append(value)
    return found


def _dtstart_for_rule(start: date | datetime) -> datetime:
    if isinstance(start, datetime):
        return start
    return datetime.combine(start, datetime.min.time())


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_ical(data: bytes | str, zone: ZoneInfo) -> ImportedHolidays:
    """The holidays and closures of an iCalendar file (see the module doc)."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise ICalError(f"not an iCalendar file: {exc}") from None
    if calendar.name != "VCALENDAR":
        raise ICalError("not an iCalendar file: no VCALENDAR")
    imported = ImportedHolidays()
    for event in calendar.walk("VEVENT"):
        summary = str(event.get("SUMMARY", "")).strip()[:120]
        if event.get("DTSTART") is None:
            raise ICalError(f"the event {summary or '(untitled)'!r} has no DTSTART")
        start = event.decoded("DTSTART")
        end = event.decoded("DTEND") if event.get("DTEND") is not None else None
        duration = event.decoded("DURATION") if event.get("DURATION") is not None else None
        for occurrence in _occurrences(event, start):
            if isinstance(occurrence, datetime):
                length = (
                    duration
                    if duration is not None
                    else (end - start if isinstance(end, datetime) else timedelta(0))
                )
                if length <= timedelta(0):
                    continue  # an instant closes nothing
                begins = _as_instant(occurrence, zone)
                imported.closures.append((begins, begins + length, summary))
            else:
                days = (
                    (end - start).days
                    if isinstance(end, date) and not isinstance(end, datetime)
                    else (duration.days if duration is not None else 1)
                )
                for offset in range(max(days, 1)):
                    imported.holidays.append((occurrence + timedelta(days=offset), summary))
            if len(imported.holidays) + len(imported.closures) > MAX_ENTRIES:
                raise ICalError(f"more than {MAX_ENTRIES} holidays and closures in one file")
    return imported
