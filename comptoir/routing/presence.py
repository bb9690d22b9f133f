"""Who can be given work now: agents' presence and the sign of life of their console.

Routing gives work to an agent only when ``Membership.is_available``: active,
console open (seen within ``ONLINE_WITHIN``) and set *available*. The agent
sets themselves available, busy, away or offline (``set_availability``); their
open console says it is open (``record_console_seen``, on every ping of its
socket); what they do (replies, notes, assignments: ``record_activity``, a
listener) keeps them from being set away after the brand's delay of
inactivity (``set_inactive_agents_away``, a periodic task).

Why a periodic task rather than a state computed from ``last_active_at``: the
change must reach supervisors live (an ``agent.availability_changed`` event with
``reason`` "inactivity"), and the agent must see it and come back by saying so,
instead of being silently routable again the moment they move the mouse.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.events import kinds
from comptoir.events.actors import SYSTEM, Actor
from comptoir.events.log import append_event
from comptoir.routing.models import AgentProfile, RoutingSettings
from comptoir.tenancy.actions import MembershipActionError
from comptoir.tenancy.models import ONLINE_WITHIN, Availability, Membership


def set_availability(
    membership: Membership,
    availability: str,
    *,
    actor: Membership | None,
    reason: str | None = None,
) -> Membership:
    """The agent says they are available, or away (lunch, meeting) with the console open.

    Agents set their own availability only (``actor``, when not None, must be
    ``membership``; None: Comptoir itself). An away agent is passed over by the
    assistant's handoffs (``Membership.is_available``). A change appends
    ``agent.availability_changed`` to the brand's event log (``reason``: why
    Comptoir changed it, e.g. "inactivity"); setting the current value again
    changes nothing. Setting oneself available counts as activity.
    """
    if actor is not None and actor.pk != membership.pk:
        raise MembershipActionError(_("Agents set their own availability only."), forbidden=True)
    if availability not in Availability.values:
        raise MembershipActionError(_("Unknown availability."), invalid=True)
    with transaction.atomic():
        changed = (
            Membership.objects.filter(pk=membership.pk)
            .exclude(availability=availability)
            .update(availability=availability)
        )
        membership.availability = availability
        if changed:
            payload = {"membership_id": membership.pk, "availability": availability}
            if reason:
                payload["reason"] = reason
            append_event(
                membership.brand_id,
                kinds.AGENT_AVAILABILITY_CHANGED,
                payload,
                actor=Actor.agent_or(actor, SYSTEM),
            )
        if availability == Availability.AVAILABLE and actor is not None:
            record_activity(membership.pk)
    return membership


def record_activity(membership_id: int, now: datetime | None = None) -> None:
    """The agent did something (a reply, a note, an assignment): not inactive."""
    now = now or timezone.now()
    if not AgentProfile.objects.filter(membership_id=membership_id).update(last_active_at=now):
        brand_id = (
            Membership.objects.filter(pk=membership_id).values_list("brand_id", flat=True).first()
        )
        if brand_id is not None:
            AgentProfile.objects.bulk_create(
                [AgentProfile(membership_id=membership_id, brand_id=brand_id, last_active_at=now)],
                ignore_conflicts=True,
            )


def set_inactive_agents_away(now: datetime | None = None) -> list[int]:
    """Set away the available agents with a console open and no activity for their brand's delay.

    An agent never seen active starts the clock now (their first sweep). The
    brands' delays are ``RoutingSettings.away_after_minutes`` (0: never). Returns
    the memberships set away.
    """
    now = now or timezone.now()
    candidates = list(
        Membership.objects.select_related("user")
        .filter(
            is_active=True,
            availability=Availability.AVAILABLE,
            last_seen_at__gte=now - ONLINE_WITHIN,
        )
        .order_by("pk")
    )
    if not candidates:
        return []
    delays = dict(RoutingSettings.objects.values_list("brand_id", "away_after_minutes"))
    default = RoutingSettings._meta.get_field("away_after_minutes").default
    active = dict(
        AgentProfile.objects.filter(membership__in=candidates).values_list(
            "membership_id", "last_active_at"
        )
    )
    set_away = []
    for membership in candidates:
        minutes = delays.get(membership.brand_id, default)
        last = active.get(membership.pk)
        if last is None:
            record_activity(membership.pk, now)
        elif minutes and now - last >= timedelta(minutes=minutes):
            set_availability(membership, Availability.AWAY, actor=None, reason="inactivity")
            set_away.append(membership.pk)
    return set_away


def presence_of(
    membership: Membership, *, at_capacity: bool = False, now: datetime | None = None
) -> str:
    """What a supervisor sees: offline (console closed or signed off), away, busy, available.

    *Busy* also when the agent is available but holds all they may
    (``at_capacity``, from ``routing.router.spare_capacity``).
    """
    if not membership.is_online(now) or membership.availability == Availability.OFFLINE:
        return Availability.OFFLINE
    if membership.availability == Availability.AVAILABLE and at_capacity:
        return Availability.BUSY
    return membership.availability


def record_console_seen(membership_id: int) -> bool:
    """The agent's console is open now; False when their seat is no longer active.

    One query on every ping of the console's socket records the sign of life
    and re-checks the access it relies on: an inactive seat or user is not
    recorded (and the console is closed by its caller).
    """
    return (
        Membership.objects.filter(pk=membership_id, is_active=True, user__is_active=True).update(
            last_seen_at=timezone.now()
        )
        == 1
    )
