"""Endpoints' configuration and their deliveries: every change of this app's rows.

Delivery, in short (docs/webhooks.md for integrators):

- an event of a kind an enabled endpoint wants gets a ``WebhookDelivery`` row per
  such endpoint in the event's own transaction (``listeners``), and a job
  ``deliver_endpoint`` for each endpoint is queued with it;
- ``deliver_endpoint`` holds the endpoint's lock (``webhook-endpoint:<id>``): one
  job per endpoint at a time, sending its waiting deliveries one by one in the
  order of their event ids. A failure stops it: the delivery is due again after
  an exponential backoff (``WEBHOOKS_RETRY_*``), and the deliveries after it wait
  behind it, which is what keeps the order. The periodic ``tasks.wake_due_endpoints``
  queues the job again once the backoff has passed;
- every endpoint has its own jobs and lock, and each attempt is bounded by
  ``WEBHOOKS_TIMEOUT_SECONDS``, so a dead or slow endpoint never holds another's
  deliveries (nor any request: all of it runs in workers, queue ``webhooks``);
- an endpoint that has not had one success for ``WEBHOOKS_DISABLE_AFTER_DAYS`` is
  switched off, with a ``webhook.endpoint_disabled`` event and a notice on the
  console's webhook pages; its waiting deliveries are kept and go out, in order,
  once an administrator switches it on again.

Delivery is at least once (a worker killed mid-send leaves its job to another):
receivers drop a ``Comptoir-Delivery`` id they have already processed.
"""

import logging
import secrets
import time
from contextlib import suppress
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from comptoir.events import kinds
from comptoir.events.actors import SYSTEM
from comptoir.events.log import append_event
from comptoir.outbound_webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from comptoir.outbound_webhooks.sending import Outcome, attempt
from comptoir.outbound_webhooks.subscriptions import forget_subscriptions
from comptoir.tasks import AlreadyQueued, task
from comptoir.tenancy.models import Membership

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# --- Configuration (administrators) ------------------------------------------------------------


def create_endpoint(
    membership: Membership,
    *,
    url: str,
    kinds: list[str],
    description: str = "",
    is_enabled: bool = True,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint of the administrator's brand, and its secret (shown this once)."""
    secret = new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            brand_id=membership.brand_id,
            url=url,
            kinds=sorted(set(kinds)),
            description=description,
            is_enabled=is_enabled,
            secret=secret,
        )
    forget_subscriptions()
    logger.info("webhook endpoint %s created by membership %s", endpoint.pk, membership.pk)
    return endpoint, secret


def update_endpoint(
    membership: Membership,
    endpoint: WebhookEndpoint,
    *,
    url: str,
    kinds: list[str],
    description: str,
    is_enabled: bool,
) -> WebhookEndpoint:
    """Change an endpoint; switching it on again resumes its waiting deliveries at once."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        switched_on = is_enabled and not locked.is_enabled
        locked.url, locked.description, locked.is_enabled = url, description, is_enabled
        locked.kinds = sorted(set(kinds))
        if switched_on:
            now = timezone.now()
            locked.failing_since = locked.disabled_at = locked.next_attempt_at = None
            locked.disabled_reason = ""
            locked.deliveries.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=now)
            queue_drain(locked.pk)
        locked.save()
    forget_subscriptions()
    logger.info("webhook endpoint %s changed by membership %s", endpoint.pk, membership.pk)
    return locked


def rotate_secret(membership: Membership, endpoint: WebhookEndpoint) -> str:
    """A new secret; the old one still signs for ``WEBHOOKS_SECRET_OVERLAP_HOURS``."""
    secret = new_secret()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_until = timezone.now() + timedelta(
            hours=settings.WEBHOOKS_SECRET_OVERLAP_HOURS
        )
        locked.secret = secret
        locked.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    logger.info("webhook endpoint %s secret rotated by membership %s", endpoint.pk, membership.pk)
    return secret


def delete_endpoint(membership: Membership, endpoint: WebhookEndpoint) -> None:
    """The endpoint and its delivery log go; a running job finds nothing left to send."""
    endpoint.delete()
    forget_subscriptions()
    logger.info("webhook endpoint %s deleted by membership %s", endpoint.pk, membership.pk)


def redeliver(membership: Membership, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery (a new id) in the event's place."""
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            kind=delivery.kind,
            next_attempt_at=timezone.now(),
            redelivery_of=delivery,
        )
        queue_drain(delivery.endpoint_id)
    logger.info("webhook delivery %s redelivered by membership %s", delivery.pk, membership.pk)
    return again


# --- Delivery (workers) ------------------------------------------------------------------------


def queue_drain(endpoint_id: int) -> None:
    """Queue the endpoint's job (in the current transaction) unless one already waits."""
    lock = f"webhook-endpoint:{endpoint_id}"
    # AlreadyQueued: the waiting job reads the deliveries when it starts; it sends this one.
    with suppress(AlreadyQueued):
        deliver_endpoint.enqueue(endpoint_id=endpoint_id, lock=lock, queueing_lock=lock)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failed try, capped."""
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS
    exponent = min(max(attempts - 1, 0), 30)
    return timedelta(seconds=min(base * 2**exponent, settings.WEBHOOKS_RETRY_MAX_SECONDS))


def next_delivery(endpoint_id: int) -> WebhookDelivery | None:
    """The endpoint's first waiting delivery: lowest event id (a redelivery after the original)."""
    return (
        WebhookDelivery.objects.select_related("event")
        .filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING)
        .order_by("event_id", "id")
        .first()
    )


@task(queue="webhooks", retries=3, retry_wait=30)
def deliver_endpoint(endpoint_id: int) -> None:
    """Send an endpoint's waiting deliveries in order until one fails or none is due."""
    started = time.monotonic()
    for _ in range(settings.WEBHOOKS_BATCH):
        endpoint = (
            WebhookEndpoint.objects.select_related("brand")
            .filter(pk=endpoint_id, is_enabled=True)
            .first()
        )
        if endpoint is None:  # switched off or deleted meanwhile
            return
        delivery = next_delivery(endpoint_id)
        now = timezone.now()
        if delivery is None or delivery.next_attempt_at > now:
            # Nothing left, or the first one waits for its backoff: the wake-up comes then.
            due = None if delivery is None else delivery.next_attempt_at
            WebhookEndpoint.objects.filter(pk=endpoint_id).update(next_attempt_at=due)
            return
        outcome = attempt(endpoint, delivery, now)
        if not record_attempt(endpoint_id, delivery, outcome):
            return
        if time.monotonic() - started > settings.WEBHOOKS_TIMEOUT_SECONDS:
            break  # a slow receiver: give the worker back, other endpoints' jobs go first
    with transaction.atomic():
        queue_drain(endpoint_id)


def record_attempt(endpoint_id: int, delivery: WebhookDelivery, outcome: Outcome) -> bool:
    """Store what an attempt did to the delivery and its endpoint; True when delivered."""
    now = timezone.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
        if endpoint is None:
            return False
        changes = {
            "attempts": delivery.attempts + 1,
            "last_attempt_at": now,
            "latency_ms": outcome.latency_ms,
            "response_status": outcome.status,
            "response_excerpt": outcome.excerpt,
            "error": outcome.error,
        }
        if outcome.delivered:
            changes |= {"status": DeliveryStatus.DELIVERED, "delivered_at": now}
            endpoint.failing_since = endpoint.next_attempt_at = None
        else:
            changes["next_attempt_at"] = now + retry_delay(delivery.attempts + 1)
            endpoint.next_attempt_at = changes["next_attempt_at"]
            endpoint.failing_since = endpoint.failing_since or now
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)
        failing_for = now - endpoint.failing_since if endpoint.failing_since else None
        if failing_for is not None and failing_for >= timedelta(
            days=settings.WEBHOOKS_DISABLE_AFTER_DAYS
        ):
            _switch_off(endpoint, outcome.error, now)
        endpoint.save(
            update_fields=[
                "failing_since",
                "next_attempt_at",
                "is_enabled",
                "disabled_at",
                "disabled_reason",
            ]
        )
    if not outcome.delivered:
        logger.info(
            "webhook delivery %s to endpoint %s failed (attempt %s): %s",
            delivery.pk,
            endpoint_id,
            delivery.attempts + 1,
            outcome.error,
        )
    return outcome.delivered


def _switch_off(endpoint: WebhookEndpoint, last_error: str, now) -> None:
    endpoint.is_enabled = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = last_error[:300]
    endpoint.next_attempt_at = None
    append_event(
        endpoint.brand_id,
        kinds.WEBHOOK_ENDPOINT_DISABLED,
        {
            "endpoint_id": endpoint.pk,
            "url": endpoint.url,
            "failing_since": endpoint.failing_since.isoformat(),
            "last_error": last_error,
        },
        actor=SYSTEM,
    )
    transaction.on_commit(forget_subscriptions)
    logger.warning(
        "webhook endpoint %s switched off: failing since %s (%s)",
        endpoint.pk,
        endpoint.failing_since.isoformat(),
        last_error,
    )
