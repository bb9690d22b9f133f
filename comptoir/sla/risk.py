"""What the router, the inbox and the API read of SLAs: risks, due times, opening hours.

The router (``comptoir.routing``) scores conversations at risk first and
tells customers when a closed team is back; both read from here, never from
the SLA tables directly.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from comptoir.conversations.models import Conversation
from comptoir.sla.calendars import Calendar, is_open, next_opening
from comptoir.sla.models import BusinessCalendar, ClockState, SlaClock
from comptoir.tenancy.models import Brand, Team


def at_risk_conversation_ids(brand: Brand | int, now: datetime) -> set[int]:
    """Open conversations with a running clock past its at-risk instant (breached ones too)."""
    brand_id = brand if isinstance(brand, int) else brand.pk
    return set(
        SlaClock.objects.filter(brand_id=brand_id, state=ClockState.RUNNING, at_risk_at__lte=now)
        .values_list("conversation_id", flat=True)
        .distinct()
    )


def calendar_for(brand: Brand | int, team: Team | int | None = None) -> Calendar | None:
    """The team's own calendar, else the brand's default one; None when the brand has none."""
    brand_id = brand if isinstance(brand, int) else brand.pk
    team_id = team if isinstance(team, int) or team is None else team.pk
    found = (
        BusinessCalendar.objects.filter(brand_id=brand_id)
        .filter(Q(team__isnull=True) | Q(team_id=team_id))
        .prefetch_related("intervals", "holidays", "closures")
        .order_by("team_id")  # NULLs last on PostgreSQL, first on SQLite: sorted below
    )
    calendars = sorted(found, key=lambda calendar: calendar.team_id is None)
    return calendars[0].as_calendar() if calendars else None


@dataclass(frozen=True)
class Opening:
    open_now: bool
    # When the team opens next (None when open now, or without any calendar).
    back_at: datetime | None


def team_opening(brand: Brand | int, team: Team | int | None, now: datetime) -> Opening:
    """Whether the team is open now and, if not, when it is back ("back on Monday at 9:00").

    Without a calendar a team is always open. A calendar without any hours is
    closed for good (``back_at`` None).
    """
    calendar = calendar_for(brand, team)
    if calendar is None:
        return Opening(True, None)
    if not calendar.has_hours:
        return Opening(False, None)
    if is_open(calendar, now):
        return Opening(True, None)
    return Opening(False, next_opening(calendar, now))


@dataclass(frozen=True)
class ClockView:
    target: str
    state: str
    due_at: datetime | None
    at_risk: bool
    breached: bool
    stopped_at: datetime | None


def clocks_of(conversation: Conversation, now: datetime) -> list[ClockView]:
    """The conversation's clocks as the API and the console show them (one query)."""
    return [
        ClockView(
            target=clock.target,
            state=clock.state,
            due_at=clock.due_at,
            at_risk=clock.state == ClockState.RUNNING
            and clock.at_risk_at is not None
            and clock.at_risk_at <= now,
            breached=clock.breached_at is not None
            or (
                clock.state == ClockState.RUNNING
                and clock.due_at is not None
                and clock.due_at <= now
            ),
            stopped_at=clock.stopped_at,
        )
        for clock in SlaClock.objects.filter(conversation=conversation).order_by("pk")
    ]


# What the router asks (``routing.hooks``, installed by ``SlaConfig.ready``): plain ids in,
# the wall clock's now.


def conversations_at_risk_among(conversation_ids: Iterable[int]) -> set[int]:
    """Those of ``conversation_ids`` with a running clock past its at-risk instant."""
    ids = list(conversation_ids)
    if not ids:
        return set()
    return set(
        SlaClock.objects.filter(
            conversation_id__in=ids, state=ClockState.RUNNING, at_risk_at__lte=timezone.now()
        ).values_list("conversation_id", flat=True)
    )


def team_is_open_now(team_id: int) -> bool:
    """Whether the team works now (its calendar, else its brand's; always without one)."""
    brand_id = Team.objects.filter(pk=team_id).values_list("brand_id", flat=True).first()
    if brand_id is None:
        return True
    return team_opening(brand_id, team_id, timezone.now()).open_now
