"""Bookable slots: a pure function of opening hours, a service's length and existing bookings.

Slots start at each opening interval's start and follow each other by the
service's duration; a slot is offered only when it fits wholly in the interval
(a lunch break or a closure cuts it), is in the future, and has a place left.
Opening hours come from the location's business calendar (``sla.calendars``),
so holidays, timed closures and daylight-saving changes are handled where they
are for SLAs: a 09:00 slot is 09:00 local time on both sides of a change.

When the location declares its staff, a slot's places are also bounded by the
skilled staff at work for the whole slot (``StaffTime``: their weekly hours in
local wall-clock time, minus their absences).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from comptoir.sla.calendars import Calendar, CalendarError, open_intervals


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    free: int


def _overlaps(start: datetime, end: datetime, other: tuple[datetime, datetime]) -> bool:
    return other[0] < end and start < other[1]


@dataclass(frozen=True)
class StaffTime:
    """When one staff member is at work.

    ``weekly``: weekday (0 Monday) → local (start, end) intervals, an end of
    00:00 meaning midnight; empty: whenever the location is open. ``absences``:
    aware (start, end) instants away.
    """

    weekly: dict[int, list[tuple[time, time]]] = field(default_factory=dict)
    absences: list[tuple[datetime, datetime]] = field(default_factory=list)

    def covers(self, start: datetime, end: datetime, zone: ZoneInfo) -> bool:
        """At work for the whole of [start, end)."""
        if any(_overlaps(start, end, away) for away in self.absences):
            return False
        if not self.weekly:
            return True
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        day = local_start.date()
        # Wall-clock seconds from the local start of the slot's day (86400: midnight after).
        begin = _seconds(local_start.time())
        finish = (local_end.date() - day).days * 86400 + _seconds(local_end.time())
        for shift_start, shift_end in self.weekly.get(day.weekday(), []):
            until = 86400 if shift_end == time(0) else _seconds(shift_end)
            if _seconds(shift_start) <= begin and finish <= until:
                return True
        return False


def _seconds(at: time) -> int:
    return at.hour * 3600 + at.minute * 60 + at.second


def compute_slots(
    calendar: Calendar,
    *,
    duration: timedelta,
    capacity: int,
    booked: Iterable[tuple[datetime, datetime]],
    start: datetime,
    end: datetime,
    now: datetime,
    staff: Sequence[StaffTime] | None = None,
) -> list[Slot]:
    """The slots between ``start`` and ``end`` (aware) with a place left, in order.

    ``booked`` are the (start, end) of the bookings already holding a place of
    this service at this location; a slot's free places are ``capacity`` — or
    fewer, the ``staff`` able to serve it who are at work for the whole slot,
    when the location declares staff — minus the bookings that overlap it.
    Slots that began before ``now`` are not offered.
    """
    if duration <= timedelta(0) or capacity < 1 or not calendar.has_hours:
        return []
    booked = list(booked)
    # From the local midnight of ``start``: the day's first interval is not clipped,
    # so slots keep their alignment on the opening time.
    local_day = start.astimezone(calendar.zone).date()
    day_start = datetime.combine(local_day, time(0)).replace(tzinfo=calendar.zone)
    slots = []
    try:
        for interval_start, interval_end in open_intervals(calendar, day_start):
            if interval_start >= end:
                break
            slot_start = interval_start
            while slot_start + duration <= interval_end:
                slot_end = slot_start + duration
                if slot_start >= max(start, now) and slot_end <= end:
                    places = capacity
                    if staff is not None:
                        at_work = sum(
                            1 for s in staff if s.covers(slot_start, slot_end, calendar.zone)
                        )
                        places = min(capacity, at_work)
                    taken = sum(1 for b in booked if _overlaps(slot_start, slot_end, b))
                    if taken < places:
                        slots.append(
                            Slot(
                                slot_start.astimezone(UTC),
                                slot_end.astimezone(UTC),
                                places - taken,
                            )
                        )
                slot_start = slot_end
    except CalendarError:
        return slots
    return slots
