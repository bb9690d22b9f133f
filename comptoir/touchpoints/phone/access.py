"""Permission-checked fetches of callback requests and calls (see ``tenancy.access``)."""

from django.http import Http404

from comptoir.tenancy.access import check_role, row_id
from comptoir.tenancy.models import Membership, Role
from comptoir.touchpoints.phone.models import Call, CallbackRequest, PhoneLine


def access_callback(
    membership: Membership, callback_id: int, *, require_role: str = Role.AGENT
) -> CallbackRequest:
    check_role(membership, require_role)
    try:
        return CallbackRequest.objects.select_related("conversation", "customer", "brand").get(
            pk=callback_id, brand_id=membership.brand_id
        )
    except (CallbackRequest.DoesNotExist, ValueError, TypeError):
        raise Http404("No such callback request.") from None


def access_call(membership: Membership, call_id: int, *, require_role: str = Role.AGENT) -> Call:
    check_role(membership, require_role)
    try:
        return Call.objects.select_related("contact__conversation", "agent__user").get(
            pk=call_id, brand_id=membership.brand_id
        )
    except (Call.DoesNotExist, ValueError, TypeError):
        raise Http404("No such call.") from None


def access_phone_line(
    membership: Membership, line_id: int | str, *, require_role: str = Role.ADMIN
) -> PhoneLine:
    """A phone line of the brand, to configure: administrators only (it holds secrets)."""
    check_role(membership, require_role)
    try:
        return PhoneLine.objects.get(pk=row_id(line_id), brand_id=membership.brand_id)
    except PhoneLine.DoesNotExist:
        raise Http404("No such phone line.") from None
