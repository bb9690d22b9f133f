"""Bookable slots: a pure function of opening hours, a service's length and existing bookings.

Slots start at each opening interval's start and follow each other by the
service's duration; a slot is offered only when it fits wholly in the interval
(a lunch break or a closure cuts it), is in the future, and has a place left.
Opening hours come from the location's business calendar (``sla.calendars``),
so holidays, timed closures and daylight-saving changes are handled where they
are for SLAs: a 09:00 slot is 09:00 local time on both sides of a change.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from comptoir.sla.calendars import Calendar, CalendarError, open_intervals


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    free: int


def _overlaps(start: datetime, end: datetime, other: tuple[datetime, datetime]) -> bool:
    return other[0] < end and start < other[1]


def compute_slots(
    calendar: Calendar,
    *,
    duration: timedelta,
    capacity: int,
    booked: Iterable[tuple[datetime, datetime]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[Slot]:
    """The slots between ``start`` and ``end`` (aware) with a place left, in order.

    ``booked`` are the (start, end) of the bookings already holding a place of
    this service at this location; a slot's free places are ``capacity`` minus
    the bookings that overlap it. Slots that began before ``now`` are not offered.
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
                    taken = sum(1 for b in booked if _overlaps(slot_start, slot_end, b))
                    if taken < capacity:
                        slots.append(
                            Slot(
                                slot_start.astimezone(UTC),
                                slot_end.astimezone(UTC),
                                capacity - taken,
                            )
                        )
                slot_start = slot_end
    except CalendarError:
        return slots
    return slots
