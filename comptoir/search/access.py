"""Permission-checked fetch of a saved view: its owner's only.

A saved view is private: another agent of the same brand, even an
administrator, gets 404 as for another brand's (see ``tenancy.access``).
"""

from django.http import Http404

from comptoir.search.models import SavedView
from comptoir.tenancy.access import check_role
from comptoir.tenancy.models import Membership, Role


def access_saved_view(
    membership: Membership, view_id: int, *, require_role: str = Role.AGENT
) -> SavedView:
    check_role(membership, require_role)
    try:
        return SavedView.objects.get(pk=view_id, brand_id=membership.brand_id, owner=membership)
    except (SavedView.DoesNotExist, ValueError, TypeError):
        raise Http404("No such view.") from None
