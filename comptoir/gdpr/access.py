"""Permission-checked fetch of data requests: 403 below the role, 404 outside the brand."""

from django.http import Http404

from comptoir.gdpr.models import DataRequest
from comptoir.tenancy.access import check_role, row_id
from comptoir.tenancy.models import Membership, Role


def access_data_request(
    membership: Membership, request_id: int | str, *, require_role: str = Role.SUPERVISOR
) -> DataRequest:
    check_role(membership, require_role)
    try:
        return DataRequest.objects.select_related("customer").get(
            pk=row_id(request_id), brand_id=membership.brand_id
        )
    except DataRequest.DoesNotExist:
        raise Http404("No such request.") from None
