"""Permission-checked fetch of a canned reply (see ``tenancy.access``).

A shared reply is the brand's: any agent uses it, supervisors and
administrators change it. A personal reply is its owner's only: another
agent, even an administrator, gets 404 as for another brand's.
"""

from django.db.models import Q
from django.http import Http404

from comptoir.canned.models import CannedReply
from comptoir.tenancy.access import check_role, row_id
from comptoir.tenancy.models import Membership, Role

# Who may change (or delete) a shared reply.
EDITS_SHARED = Role.SUPERVISOR


def visible_replies(membership: Membership):
    """The brand's shared replies and the agent's own: what the ``/`` list offers."""
    return CannedReply.objects.filter(
        Q(owner__isnull=True) | Q(owner=membership), brand_id=membership.brand_id
    )


def access_canned_reply(
    membership: Membership, reply_id: int | str, *, require_role: str = Role.AGENT
) -> CannedReply:
    check_role(membership, require_role)
    try:
        return visible_replies(membership).get(pk=row_id(reply_id))
    except CannedReply.DoesNotExist:
        raise Http404("No such canned reply.") from None


def check_may_edit(membership: Membership, reply: CannedReply) -> None:
    """PermissionDenied (403) unless ``membership`` may change ``reply``."""
    if reply.is_shared:
        check_role(
            membership,
            EDITS_SHARED,
            "Only supervisors and administrators change the brand's replies.",
        )
