"""State changes of agent seats."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils.translation import gettext as _

from comptoir.conversations.events import append_event
from comptoir.realtime.groups import agent_group
from comptoir.tenancy.models import Availability, Membership


class MembershipActionError(ValueError):
    """The change does not apply; ``reason`` is shown to the agent as is.

    ``invalid``: the input itself is wrong (HTTP 400); ``forbidden``: the agent
    may not (403).
    """

    def __init__(self, reason: str, *, forbidden: bool = False, invalid: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.forbidden = forbidden
        self.invalid = invalid


def set_availability(
    membership: Membership, availability: str, *, actor: Membership | None = None
) -> Membership:
    """The agent says they are available, or away (lunch, meeting) with the console open.

    Agents set their own availability only (``actor``, when given, must be
    ``membership``). An away agent is passed over by the assistant's handoffs
    (``Membership.is_available``). A change appends ``agent.availability_changed``
    to the brand's event log; setting the current value again changes nothing.
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
                "agent.availability_changed",
                {"membership_id": membership.pk, "availability": availability},
            )
    return membership


def deactivate_membership(membership: Membership) -> None:
    """Withdraw an agent's access to the brand, including consoles already open.

    The agent's open WebSockets are told to close once the change is committed,
    rather than at their next access check.
    """
    with transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(is_active=False)
        membership.is_active = False
        transaction.on_commit(lambda: close_agent_sockets(membership.pk))


def close_agent_sockets(membership_id: int) -> None:
    """Ask every console socket of this agent, in any process, to re-check its access."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(agent_group(membership_id), {"type": "comptoir.recheck"})
