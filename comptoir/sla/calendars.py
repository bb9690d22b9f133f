"""Business-hours arithmetic: pure functions over a calendar, DST-correct with ``zoneinfo``.

SLA targets count business time: "4 hours" means four hours while the team is
open, not four hours of the wall clock. A calendar is a time zone, weekly
opening intervals (several a day, so a lunch break is simply a gap between two
intervals), all-day holidays and timed closures. Everything here is pure (no
database): ``sla.models.BusinessCalendar.as_calendar()`` builds a ``Calendar``
once, and the functions below answer from it.

Opening hours are local wall-clock times; they are turned into instants day by
day with the calendar's zone, so a day on which clocks go forward has an hour
less of business time (09:00-17:00 is always 8 hours, but 00:00-24:00 is 23
hours on the last Sunday of March in Europe/Paris): the seconds counted are
real elapsed seconds between instants. A local time that does not exist (02:30
on the spring-forward night) is shifted forward by the gap (03:30), as Python does.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# How far ahead a search for the next opening goes before giving up: a calendar
# that opens once a year still works; one closed for two years is a mistake.
SEARCH_DAYS = 2 * 366


class CalendarError(ValueError):
    """The calendar cannot answer: it has no opening hours at all, or never opens again."""


@dataclass(frozen=True)
class Calendar:
    """Opening hours in ``zone``: ``week[weekday]`` lists (start, end) local times, Monday 0.

    An ``end`` of ``time(0)`` means midnight at the end of the day. ``holidays``
    are whole local dates closed; ``closures`` are (start, end) aware instants
    closed (an afternoon off, a timed iCal event).
    """

    zone: ZoneInfo
    week: dict[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = frozenset()
    closures: tuple[tuple[datetime, datetime], ...] = field(default=())

    def __post_init__(self) -> None:
        for weekday, intervals in self.week.items():
            if weekday not in range(7):
                raise CalendarError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
            for start, end in intervals:
                if end != time(0) and end <= start:
                    raise CalendarError(f"an interval ends ({end}) before it starts ({start})")

    @property
    def has_hours(self) -> bool:
        return any(self.week.get(weekday) for weekday in range(7))


def always_open(zone: str = "UTC") -> Calendar:
    """Every hour of every day: business time is wall-clock time."""
    return Calendar(ZoneInfo(zone), {weekday: ((time(0), time(0)),) for weekday in range(7)})


def _require_hours(calendar: Calendar) -> None:
    if not calendar.has_hours:
        raise CalendarError("the calendar has no opening hours: SLA time can never run")


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("a datetime without its time zone")
    return at.astimezone(UTC)


def _local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant of wall-clock ``at`` on ``day`` in ``zone``.

    A time skipped by the spring change is shifted forward by the gap (02:30 →
    03:30), a time repeated in autumn is its first occurrence (PEP 495, fold=0).
    """
    return datetime.combine(day, at).replace(tzinfo=zone).astimezone(UTC)


def _day_intervals(calendar: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    """The open (start, end) instants of local ``day``, closures removed, in order."""
    if day in calendar.holidays:
        return []
    intervals = []
    for start, end in calendar.week.get(day.weekday(), ()):
        start_at = _local_instant(day, start, calendar.zone)
        if end == time(0):
            end_at = _local_instant(day + timedelta(days=1), time(0), calendar.zone)
        else:
            end_at = _local_instant(day, end, calendar.zone)
        if end_at > start_at:
            intervals.append((start_at, end_at))
    intervals.sort()
    for closed_start, closed_end in calendar.closures:
        intervals = _subtract(intervals, _aware(closed_start), _aware(closed_end))
    return intervals


def _subtract(
    intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    kept = []
    for a, b in intervals:
        if end <= a or start >= b:
            kept.append((a, b))
            continue
        if a < start:
            kept.append((a, start))
        if end < b:
            kept.append((end, b))
    return kept


def open_intervals(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The open intervals from ``start`` on (the first one clipped to it), endlessly.

    Raises ``CalendarError`` when nothing opens within ``SEARCH_DAYS``.
    """
    _require_hours(calendar)
    start = _aware(start)
    # The local day before too: an interval ending at midnight may cover ``start``.
    day = start.astimezone(calendar.zone).date() - timedelta(days=1)
    days_closed = 0
    while True:
        intervals = _day_intervals(calendar, day)
        found = False
        for a, b in intervals:
            if b <= start:
                continue
            found = True
            yield (max(a, start), b)
        days_closed = 0 if found else days_closed + 1
        if days_closed > SEARCH_DAYS:
            raise CalendarError(f"the calendar never opens within {SEARCH_DAYS} days")
        day += timedelta(days=1)


def business_seconds_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Seconds the calendar is open between two instants (0 when ``end`` <= ``start``)."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return 0.0
    total = 0.0
    for a, b in open_intervals(calendar, start):
        if a >= end:
            break
        total += (min(b, end) - a).total_seconds()
        if b >= end:
            break
    return total


def add_business_seconds(calendar: Calendar, start: datetime, seconds: float) -> datetime:
    """The instant at which ``seconds`` of business time have passed since ``start``.

    With 0 seconds: ``start`` itself (even when closed). Otherwise the result
    always lies within opening hours (at an interval's end at the latest).
    """
    start = _aware(start)
    if seconds <= 0:
        return start
    left = float(seconds)
    for a, b in open_intervals(calendar, start):
        length = (b - a).total_seconds()
        if left <= length:
            return a + timedelta(seconds=left)
        left -= length
    raise AssertionError("open_intervals never ends")  # pragma: no cover


def is_open(calendar: Calendar, at: datetime) -> bool:
    """Whether the calendar is open at the instant ``at``."""
    at = _aware(at)
    _require_hours(calendar)
    local_day = at.astimezone(calendar.zone).date()
    for day in (local_day - timedelta(days=1), local_day):
        if any(a <= at < b for a, b in _day_intervals(calendar, day)):
            return True
    return False


def next_opening(calendar: Calendar, at: datetime) -> datetime:
    """``at`` when open then, else the instant the calendar opens next ("back at 9:00")."""
    return next(open_intervals(calendar, at))[0]


def next_closing(calendar: Calendar, at: datetime) -> datetime:
    """When the current (or next) opening interval ends; touching intervals are merged."""
    intervals = open_intervals(calendar, at)
    _, end = next(intervals)
    for a, b in intervals:
        if a > end:
            break
        end = b
    return end
