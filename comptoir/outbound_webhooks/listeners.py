"""Each event an endpoint wants becomes a delivery row in the event's own transaction."""

from django.utils import timezone

from comptoir.events.listeners import on
from comptoir.events.models import Event
from comptoir.outbound_webhooks.actions import queue_drain
from comptoir.outbound_webhooks.models import WebhookDelivery, WebhookEndpoint
from comptoir.outbound_webhooks.subscriptions import SUBSCRIBABLE_KINDS, brand_wants


def wanted_by_an_endpoint(event: Event) -> bool:
    """No query: the brands' subscriptions are cached per process (``subscriptions``)."""
    return brand_wants(event.brand_id, event.kind)


@on(list(SUBSCRIBABLE_KINDS.values()), when=wanted_by_an_endpoint, in_transaction=True)
def record_deliveries(event: Event) -> None:
    """One delivery per enabled endpoint of the brand wanting the kind, and its job.

    In the event's transaction: the deliveries exist exactly when the event does.
    An endpoint waiting for a retry's backoff gets no job: its wake-up comes then.
    """
    now = timezone.now()
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            brand_id=event.brand_id, is_enabled=True
        ).only("pk", "kinds", "next_attempt_at")
        if event.kind in endpoint.kinds
    ]
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event=event, kind=event.kind, next_attempt_at=now)
        for endpoint in endpoints
    )
    for endpoint in endpoints:
        if endpoint.next_attempt_at is None or endpoint.next_attempt_at <= now:
            queue_drain(endpoint.pk)
