"""The wake-up of endpoints whose first waiting delivery's backoff has passed."""

from django.conf import settings
from django.utils import timezone

from comptoir.outbound_webhooks.actions import queue_drain
from comptoir.outbound_webhooks.models import WebhookEndpoint
from comptoir.tasks import periodic


@periodic(cron=settings.WEBHOOKS_WAKE_CRON)
def wake_due_endpoints() -> int:
    """Queue the job of every enabled endpoint with a delivery due again; how many."""
    due = WebhookEndpoint.objects.filter(is_enabled=True, next_attempt_at__lte=timezone.now())
    ids = list(due.values_list("pk", flat=True))
    for endpoint_id in ids:
        queue_drain(endpoint_id)
    return len(ids)
