"""What administrators change in SLAs: calendars, their hours and holidays, policies.

Each function is one transaction and drops this process's cache of the brands
measuring SLAs (``sla.brands``). Policies and calendars already applied to a
conversation keep counting; a changed policy applies from the conversation's
next event (``clocks._follow_policy`` for team, priority or channel changes).
"""

from datetime import date, datetime, time
from itertools import pairwise

from django.db import transaction

from comptoir.sla.brands import forget_sla_brands
from comptoir.sla.calendars import CalendarError
from comptoir.sla.ical import parse_ical
from comptoir.sla.models import BusinessCalendar, Closure, Holiday, OpeningInterval, SlaPolicy
from comptoir.tenancy.models import Brand, Team


def save_calendar(
    brand: Brand, name: str, time_zone: str, *, team: Team | None = None, calendar=None
) -> BusinessCalendar:
    """Create (or rename, re-zone, reassign) a calendar; ``team`` None: the brand's default."""
    calendar = calendar or BusinessCalendar(brand=brand)
    calendar.name, calendar.time_zone, calendar.team = name, time_zone, team
    calendar.full_clean()
    with transaction.atomic():
        calendar.save()
    forget_sla_brands()
    return calendar


def set_week(calendar: BusinessCalendar, week: dict[int, list[tuple[time, time]]]) -> None:
    """Replace the calendar's weekly hours: ``week[weekday]`` lists (start, end), Monday 0.

    Intervals of a day must not overlap (a break is the gap between two).
    """
    for weekday, spans in week.items():
        if weekday not in range(7):
            raise CalendarError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
        ordered = sorted(spans)
        for start, end in ordered:
            if end != time(0) and end <= start:
                raise CalendarError(f"{start:%H:%M}-{end:%H:%M} ends before it starts")
        for (_, end), (next_start, _) in pairwise(ordered):
            if end == time(0) or next_start < end:
                raise CalendarError(f"two intervals overlap at {next_start:%H:%M}")
    with transaction.atomic():
        calendar.intervals.all().delete()
        OpeningInterval.objects.bulk_create(
            OpeningInterval(calendar=calendar, weekday=weekday, start=start, end=end)
            for weekday, spans in week.items()
            for start, end in spans
        )


def add_holiday(calendar: BusinessCalendar, day: date, name: str = "") -> Holiday:
    holiday, _ = Holiday.objects.update_or_create(
        calendar=calendar, date=day, defaults={"name": name[:120]}
    )
    return holiday


def remove_holiday(holiday: Holiday) -> None:
    holiday.delete()


def add_closure(
    calendar: BusinessCalendar, starts_at: datetime, ends_at: datetime, name: str = ""
) -> Closure:
    if ends_at <= starts_at:
        raise CalendarError("a closure ends before it starts")
    return Closure.objects.create(
        calendar=calendar, starts_at=starts_at, ends_at=ends_at, name=name[:120]
    )


def import_ical(calendar: BusinessCalendar, data: bytes) -> tuple[int, int]:
    """Holidays and closures of an iCalendar file added to the calendar: (holidays, closures).

    A date already a holiday is renamed, not doubled; a closure already there
    (same start and end) is not added again. ``ICalError`` when unreadable.
    """
    imported = parse_ical(data, calendar.as_calendar().zone)
    with transaction.atomic():
        for day, name in imported.holidays:
            add_holiday(calendar, day, name)
        added_closures = 0
        for starts_at, ends_at, name in imported.closures:
            _, created = Closure.objects.get_or_create(
                calendar=calendar, starts_at=starts_at, ends_at=ends_at, defaults={"name": name}
            )
            added_closures += created
    return len({day for day, _ in imported.holidays}), added_closures


def save_policy(policy: SlaPolicy) -> SlaPolicy:
    """Create or change a policy (validated: its calendar must be the brand's)."""
    if policy.calendar.brand_id != policy.brand_id:
        raise ValueError("a policy counts in a calendar of its own brand")
    if policy.team is not None and policy.team.brand_id != policy.brand_id:
        raise ValueError("a policy applies to a team of its own brand")
    policy.full_clean()
    with transaction.atomic():
        policy.save()
    forget_sla_brands()
    return policy


def delete_policy(policy: SlaPolicy) -> None:
    policy.delete()
    forget_sla_brands()
