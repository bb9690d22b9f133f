"""Permission-checked fetches of webhook endpoints and deliveries: the brand's administrators."""

from django.http import Http404

from comptoir.outbound_webhooks.models import WebhookDelivery, WebhookEndpoint
from comptoir.tenancy.access import check_role
from comptoir.tenancy.models import Membership, Role

REFUSAL = "Only the brand's administrators manage webhooks."


def access_endpoint(
    membership: Membership, endpoint_id: int | str, *, require_role: str = Role.ADMIN
) -> WebhookEndpoint:
    check_role(membership, require_role, REFUSAL)
    found = WebhookEndpoint.objects.filter(pk=endpoint_id, brand_id=membership.brand_id).first()
    if found is None:
        raise Http404("No such webhook endpoint.")
    return found


def access_delivery(
    membership: Membership, delivery_id: int | str, *, require_role: str = Role.ADMIN
) -> WebhookDelivery:
    check_role(membership, require_role, REFUSAL)
    found = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, endpoint__brand_id=membership.brand_id)
        .first()
    )
    if found is None:
        raise Http404("No such webhook delivery.")
    return found
