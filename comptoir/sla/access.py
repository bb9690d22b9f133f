"""Permission-checked fetches of SLA objects: administrators of the object's brand only."""

from django.http import Http404

from comptoir.sla.models import BusinessCalendar, Holiday, SlaPolicy
from comptoir.tenancy.access import check_role
from comptoir.tenancy.models import Membership, Role


def access_calendar(
    membership: Membership, calendar_id: int | str, *, require_role: str = Role.ADMIN
) -> BusinessCalendar:
    check_role(membership, require_role)
    found = BusinessCalendar.objects.filter(pk=calendar_id, brand_id=membership.brand_id).first()
    if found is None:
        raise Http404("No such calendar.")
    return found


def access_holiday(
    membership: Membership, holiday_id: int | str, *, require_role: str = Role.ADMIN
) -> Holiday:
    check_role(membership, require_role)
    found = (
        Holiday.objects.select_related("calendar")
        .filter(pk=holiday_id, calendar__brand_id=membership.brand_id)
        .first()
    )
    if found is None:
        raise Http404("No such holiday.")
    return found


def access_policy(
    membership: Membership, policy_id: int | str, *, require_role: str = Role.ADMIN
) -> SlaPolicy:
    check_role(membership, require_role)
    found = SlaPolicy.objects.filter(pk=policy_id, brand_id=membership.brand_id).first()
    if found is None:
        raise Http404("No such policy.")
    return found
