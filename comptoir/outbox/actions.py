"""Send and track outbound deliveries.

An outbound message's ``message.created`` event queues a job in the message's
own transaction (``outbox.listeners``); the worker that runs it creates the
``Delivery`` and calls the channel's sender outside any transaction. A failure
is retried with backoff by a job queued for ``next_attempt_at``. A worker that
dies mid-send leaves its job to another: delivery is at least once, which is why
senders give the provider a stable id (a Message-ID, an idempotency key) per message.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from comptoir.conversations.models import Message
from comptoir.events import kinds
from comptoir.events.actors import SYSTEM
from comptoir.events.log import append_event
from comptoir.outbox import failures
from comptoir.outbox.models import Delivery, DeliveryStatus
from comptoir.outbox.senders import DeliveryError, sender_for
from comptoir.tasks import task

logger = logging.getLogger(__name__)

# Provider statuses only move forward: a late "delivered" never undoes "read".
STATUS_RANK = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}


def start_delivery(message_id: int) -> Delivery | None:
    """The message's delivery, created on first call; None when its channel has no sender.

    Idempotent: a job run twice (its worker died) finds the delivery made the first time.
    """
    with transaction.atomic():
        message = Message.objects.filter(pk=message_id).first()
        if message is None or sender_for(message.channel) is None:
            return None
        delivery, _ = Delivery.objects.get_or_create(
            message=message,
            defaults={
                "brand_id": message.brand_id,
                "channel": message.channel,
                "next_attempt_at": timezone.now(),
            },
        )
    return delivery


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failed try, capped."""
    base = settings.OUTBOX_RETRY_BASE_SECONDS
    return timedelta(
        seconds=min(base * 2 ** max(attempts - 1, 0), settings.OUTBOX_RETRY_MAX_SECONDS)
    )


@task(queue="outbox")
def send_when_due(delivery_id: int) -> None:
    """Try a pending delivery again once its backoff has passed (a task)."""
    delivery = (
        Delivery.objects.select_related("message", "message__conversation")
        .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .first()
    )
    # Sent meanwhile, failed for good, or its message deleted: nothing to do.
    if delivery is not None:
        attempt_delivery(delivery)


def attempt_delivery(delivery: Delivery) -> Delivery:
    """Send one pending delivery through its channel's sender and record the outcome."""
    sender = sender_for(delivery.channel)
    try:
        if sender is None:
            raise DeliveryError(
                f"no sender for channel {delivery.channel!r}",
                permanent=True,
                code=failures.NOT_CONFIGURED,
            )
        provider_id = sender(delivery)
    except DeliveryError as error:
        _record_failure(delivery, error.reason, permanent=error.permanent, code=error.code)
    except Exception as error:
        # A sender bug or an unexpected library error: keep the delivery, retry later.
        logger.exception("sender for %s crashed on delivery %s", delivery.channel, delivery.pk)
        _record_failure(delivery, f"{type(error).__name__}: {error}", permanent=False)
    else:
        _record_sent(delivery, provider_id)
    return delivery


def _record_sent(delivery: Delivery, provider_id: str) -> None:
    with transaction.atomic():
        delivery.status = DeliveryStatus.SENT
        delivery.attempts += 1
        delivery.provider_id = provider_id[:255]
        delivery.sent_at = timezone.now()
        delivery.last_error = ""
        delivery.failure_code = ""
        delivery.save(
            update_fields=[
                "status",
                "attempts",
                "provider_id",
                "sent_at",
                "last_error",
                "failure_code",
                "updated_at",
            ]
        )
        _delivery_changed(delivery)


def _record_failure(delivery: Delivery, reason: str, *, permanent: bool, code: str = "") -> None:
    with transaction.atomic():
        current = (
            Delivery.objects.select_for_update()
            .filter(pk=delivery.pk)
            .values_list("status", flat=True)
            .first()
        )
        if current is not None and current != DeliveryStatus.PENDING:
            # Another run (this job retried while we were still sending) recorded the
            # outcome meanwhile: requeueing it now would send it twice.
            logger.info("delivery %s: late failure ignored (%s): %s", delivery.pk, current, reason)
            return
        delivery.attempts += 1
        delivery.last_error = reason[:2000]
        delivery.failure_code = code
        if permanent or delivery.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            logger.warning("delivery %s failed for good: %s", delivery.pk, reason)
        else:
            delivery.next_attempt_at = timezone.now() + retry_delay(delivery.attempts)
            send_when_due.enqueue(
                delivery_id=delivery.pk,
                run_after=delivery.next_attempt_at,
                lock=f"delivery:{delivery.pk}",
            )
            logger.info(
                "delivery %s attempt %s failed, next at %s: %s",
                delivery.pk,
                delivery.attempts,
                delivery.next_attempt_at.isoformat(),
                reason,
            )
        # Only these fields: a row deleted meanwhile (message gone) is not re-inserted.
        delivery.save(
            update_fields=[
                "status",
                "attempts",
                "last_error",
                "failure_code",
                "next_attempt_at",
                "updated_at",
            ]
        )
        _delivery_changed(delivery)


def record_provider_status(
    brand_id: int, channel: str, provider_id: str, status: str, *, error: str = ""
) -> Delivery | None:
    """A provider reports what became of a sent message (delivered, read, failed).

    Unknown ids are ignored (None): providers also report messages sent
    outside Comptoir. Statuses never move backwards.
    """
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .select_related("message", "message__conversation")
            .filter(brand_id=brand_id, channel=channel, provider_id=provider_id)
            .first()
        )
        if delivery is None:
            return None
        if status == DeliveryStatus.FAILED and delivery.status not in (
            DeliveryStatus.DELIVERED,
            DeliveryStatus.READ,
        ):
            # Once the customer's device had it, a late "failed" describes something else.
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = error[:2000]
            delivery.failure_code = failures.PROVIDER_REFUSED
        elif STATUS_RANK.get(status, -1) > STATUS_RANK.get(delivery.status, 99):
            delivery.status = status
        else:
            return delivery
        delivery.save(update_fields=["status", "last_error", "failure_code", "updated_at"])
        _delivery_changed(delivery)
    return delivery


def _delivery_changed(delivery: Delivery) -> None:
    message = delivery.message
    append_event(
        delivery.brand_id,
        kinds.DELIVERY_UPDATED,
        {
            "message_id": message.pk,
            "conversation_id": message.conversation_id,
            "status": delivery.status,
            "attempts": delivery.attempts,
            "error": delivery.last_error,
        },
        actor=SYSTEM,
        conversation=message.conversation,
    )
