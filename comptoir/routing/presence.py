"""Who can be given work now: agents' availability and the sign of life of their console.

Routing gives a handoff to an agent only when ``Membership.is_available``:
active, console open (seen within ``ONLINE_WITHIN``) and not marked away. The
agent says whether they are away (``set_availability``); their open console
says it is open (``record_console_seen``, on every ping of its socket).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.events import kinds
from comptoir.events.actors import SYSTEM, Actor
from comptoir.events.log import append_event
from comptoir.tenancy.actions import MembershipActionError
from comptoir.tenancy.models import Availability, Membership


def set_availability(
    membership: Membership, availability: str, *, actor: Membership | None
) -> Membership:
    """The agent says they are available, or away (lunch, meeting) with the console open.

    Agents set their own availability only (``actor``, when not None, must be
    ``membership``; None: Comptoir itself). An away agent is passed over by the
    assistant's handoffs (``Membership.is_available``). A change appends
    ``agent.availability_changed`` to the brand's event log; setting the current
    value again changes nothing.
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
            append_event(
                membership.brand_id,
                kinds.AGENT_AVAILABILITY_CHANGED,
                {
                    "membership_id": membership.pk,
                    "availability": availability,
                },
                actor=Actor.agent_or(actor, SYSTEM),
            )
    return membership


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
