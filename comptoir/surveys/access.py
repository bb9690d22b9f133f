"""Permission-checked fetches of surveys and follow-ups (another brand's: 404)."""

from django.http import Http404

from comptoir.surveys.models import FollowUp
from comptoir.tenancy.access import check_role
from comptoir.tenancy.models import Membership, Role


def access_follow_up(
    membership: Membership, follow_up_id: int | str, *, require_role: str = Role.SUPERVISOR
) -> FollowUp:
    check_role(membership, require_role)
    found = (
        FollowUp.objects.select_related("survey__conversation")
        .filter(pk=follow_up_id, brand_id=membership.brand_id)
        .first()
    )
    if found is None:
        raise Http404("No such follow-up.")
    return found
