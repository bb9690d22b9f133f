"""Permission-checked fetch of quarantined mail (see ``tenancy.access``)."""

from django.http import Http404

from comptoir.tenancy.access import check_role, row_id
from comptoir.tenancy.models import Membership, Role
from comptoir.touchpoints.email.models import Mailbox, QuarantinedMail


def access_quarantined_mail(
    membership: Membership, quarantined_id: int, *, require_role: str = Role.ADMIN
) -> QuarantinedMail:
    """The brand's quarantined mail, raw content included.

    Administrators only by default: a mail that could not be stored may hold
    anything, and nobody else has a page that shows it.
    """
    check_role(membership, require_role)
    try:
        return QuarantinedMail.objects.get(pk=quarantined_id, brand_id=membership.brand_id)
    except (QuarantinedMail.DoesNotExist, ValueError, TypeError):
        raise Http404("No such quarantined mail.") from None


def access_mailbox(
    membership: Membership, mailbox_id: int | str, *, require_role: str = Role.ADMIN
) -> Mailbox:
    """A mailbox of the brand, to configure: administrators only (it may hold IMAP credentials)."""
    check_role(membership, require_role)
    try:
        return Mailbox.objects.get(pk=row_id(mailbox_id), brand_id=membership.brand_id)
    except Mailbox.DoesNotExist:
        raise Http404("No such mailbox.") from None
