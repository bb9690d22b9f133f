"""State changes of agent seats."""

from django.db import transaction

from comptoir.realtime.groups import agent_group
from comptoir.tenancy.models import Membership


class MembershipActionError(ValueError):
    """A change to an agent's seat does not apply; ``reason`` is shown to the agent as is.

    ``invalid``: the input itself is wrong (HTTP 400); ``forbidden``: the agent
    may not (403).
    """

    def __init__(self, reason: str, *, forbidden: bool = False, invalid: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.forbidden = forbidden
        self.invalid = invalid


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
    from comptoir.realtime.publish import publish_message

    publish_message(agent_group(membership_id), {"type": "comptoir.recheck"})
