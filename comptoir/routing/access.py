"""Permission-checked fetches of routing objects: administrators of the object's brand only."""

from django.http import Http404

from comptoir.routing.models import SkillRequirement
from comptoir.tenancy.access import check_role
from comptoir.tenancy.models import Membership, Role


def access_skill_requirement(
    membership: Membership, requirement_id: int | str, *, require_role: str = Role.ADMIN
) -> SkillRequirement:
    check_role(membership, require_role)
    found = SkillRequirement.objects.filter(pk=requirement_id, brand_id=membership.brand_id).first()
    if found is None:
        raise Http404("No such skill requirement.")
    return found
