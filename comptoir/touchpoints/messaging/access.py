"""Permission-checked fetch of WhatsApp and Messenger accounts (see ``tenancy.access``)."""

from django.http import Http404

from comptoir.tenancy.access import check_role, row_id
from comptoir.tenancy.models import Membership, Role
from comptoir.touchpoints.messaging.models import MessagingAccount


def access_messaging_account(
    membership: Membership, account_id: int | str, *, require_role: str = Role.ADMIN
) -> MessagingAccount:
    """An account of the brand, to configure: administrators only (it holds secrets)."""
    check_role(membership, require_role)
    try:
        return MessagingAccount.objects.get(pk=row_id(account_id), brand_id=membership.brand_id)
    except MessagingAccount.DoesNotExist:
        raise Http404("No such account.") from None
