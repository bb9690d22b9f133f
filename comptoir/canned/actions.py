"""Changes to canned replies, each in one transaction with its ``settings.changed`` event."""

from django.db import transaction

from comptoir.canned.models import CannedReply
from comptoir.tenancy.actions import record_settings_change, save_brand_object
from comptoir.tenancy.models import Membership


def save_canned_reply(
    actor: Membership, reply: CannedReply | None, values: dict, *, shared: bool
) -> CannedReply:
    """Create or change a reply; ``shared``: the brand's, else the actor's own.

    Whether the actor may share it is the caller's check (``access.check_may_edit``).
    """
    reply = reply or CannedReply()
    values = {**values, "owner_id": None if shared else actor.pk}
    save_brand_object(actor, reply, values, "canned_reply")
    return reply


def delete_canned_reply(actor: Membership, reply: CannedReply) -> None:
    with transaction.atomic():
        record_settings_change(actor, actor.brand_id, "canned_reply", reply.pk, "deleted")
        reply.delete()
