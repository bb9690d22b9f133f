"""What clocks and timers share: business time used, and the at-risk and breach events."""

from datetime import datetime

from comptoir.conversations.models import Conversation
from comptoir.events import kinds
from comptoir.events.actors import SYSTEM
from comptoir.events.log import append_event
from comptoir.sla.calendars import Calendar, business_seconds_between
from comptoir.sla.models import ClockState, SlaClock, SlaPolicy


def calendar_of(policy: SlaPolicy) -> Calendar:
    return policy.calendar.as_calendar()


def used_seconds(clock: SlaClock, calendar: Calendar, at: datetime) -> float:
    """Business seconds the clock has used up to ``at``."""
    used = clock.elapsed_seconds
    if clock.state == ClockState.RUNNING and clock.running_since is not None:
        used += business_seconds_between(calendar, clock.running_since, at)
    return used


def clock_payload(clock: SlaClock, calendar: Calendar, now: datetime) -> dict:
    left = clock.target_seconds - used_seconds(clock, calendar, now)
    sla = clock.sla
    return {
        "conversation_id": clock.conversation_id,
        "target": clock.target,
        "policy_id": sla.policy_id,
        "due_at": clock.due_at.isoformat(),
        "seconds_left": round(left),
    }


def breach(clock: SlaClock, calendar: Calendar, now: datetime) -> None:
    clock.breached_at = clock.due_at
    announce(kinds.SLA_BREACHED, clock, calendar, now)


def announce(kind, clock: SlaClock, calendar: Calendar, now: datetime) -> None:
    conversation = Conversation.objects.select_related("customer").get(pk=clock.conversation_id)
    append_event(
        clock.brand_id,
        kind,
        clock_payload(clock, calendar, now),
        actor=SYSTEM,
        conversation=conversation,
        customer=conversation.customer,
    )
