"""The outbox: backoff, giving up, provider statuses and claims that never send twice."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from comptoir.conversations.actions import send_reply
from comptoir.conversations.models import Event, Message
from comptoir.outbox import senders
from comptoir.outbox.actions import (
    deliver_due,
    enqueue_delivery,
    record_provider_status,
    retry_delay,
)
from comptoir.outbox.models import Delivery, DeliveryStatus
from comptoir.outbox.senders import DeliveryError, register_sender
from tests.factories import ingest_chat, make_agent, make_brand

TEST_CHANNEL = "testchan"


class RecordingSender:
    """A sender for a test channel: records calls, then does what ``behaviour`` says."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.behaviour = lambda delivery: f"provider-{delivery.pk}"
        self._lock = threading.Lock()

    def __call__(self, delivery: Delivery) -> str:
        with self._lock:
            self.calls.append(delivery.pk)
        return self.behaviour(delivery)


@pytest.fixture
def sender():
    recording = RecordingSender()
    register_sender(TEST_CHANNEL, recording)
    yield recording
    senders._senders.pop(TEST_CHANNEL, None)


def queued(brand, agent, text: str = "Réponse") -> Delivery:
    """A reply queued on the test channel, through ``enqueue_delivery``."""
    conversation = ingest_chat(brand, "Bonjour").conversation
    reply = send_reply(agent, conversation, text)
    Message.objects.filter(pk=reply.pk).update(channel=TEST_CHANNEL)
    reply.refresh_from_db()
    delivery = enqueue_delivery(reply)
    assert delivery is not None
    return delivery


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_retry_delay_doubles_and_is_capped(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_RETRY_MAX_SECONDS = 3600
    delays = [retry_delay(attempts).total_seconds() for attempts in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_temporary_failures_back_off_then_fail_after_max_attempts(brand, agent, sender, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_RETRY_BASE_SECONDS = 30

    def busy(delivery):
        raise DeliveryError("provider busy")

    sender.behaviour = busy
    delivery = queued(brand, agent)

    for attempt, delay in [(1, 30), (2, 60)]:
        before = timezone.now()
        assert deliver_due() == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, attempt)
        assert before + timedelta(seconds=delay) <= delivery.next_attempt_at
        assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=delay)
        assert deliver_due() == 0  # backing off
        make_due(delivery)

    assert deliver_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert delivery.last_error == "provider busy"
    make_due(delivery)
    assert deliver_due() == 0  # failed for good: never tried again
    assert len(sender.calls) == 3


def test_a_permanent_error_fails_at_once(brand, agent, sender):
    def refused(delivery):
        raise DeliveryError("number not on WhatsApp", permanent=True)

    sender.behaviour = refused
    delivery = queued(brand, agent)
    deliver_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)


def test_a_crashing_sender_is_retried_then_succeeds(brand, agent, sender):
    def crash(delivery):
        raise RuntimeError("library bug")

    sender.behaviour = crash
    delivery = queued(brand, agent)
    deliver_due()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error == "RuntimeError: library bug"

    sender.behaviour = lambda d: "wamid.OK"
    make_due(delivery)
    deliver_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_id, delivery.last_error) == (
        DeliveryStatus.SENT,
        "wamid.OK",
        "",
    )
    assert delivery.sent_at is not None


def test_a_claimed_delivery_is_not_due_for_another_worker(brand, agent, sender):
    """While one worker sends, a second round (another worker) finds nothing to do."""
    seen_by_second_worker = []
    sender.behaviour = lambda d: seen_by_second_worker.append(deliver_due()) or "id-1"
    queued(brand, agent)
    assert deliver_due() == 1
    assert seen_by_second_worker == [0]
    assert len(sender.calls) == 1


def test_a_late_failure_never_undoes_another_workers_send(brand, agent, sender, settings):
    """A worker whose lease expired mid-send fails after another worker sent the delivery:
    its failure must not put the delivery back in the queue (it would be sent twice)."""
    settings.OUTBOX_MAX_ATTEMPTS = 10

    def slow_then_fails(delivery):
        # Meanwhile the lease ended and a second worker sent it.
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SENT, provider_id="id-by-worker-2", sent_at=timezone.now()
        )
        raise DeliveryError("connection reset")

    sender.behaviour = slow_then_fails
    delivery = queued(brand, agent)
    deliver_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_id) == (DeliveryStatus.SENT, "id-by-worker-2")
    make_due(delivery)
    assert deliver_due() == 0


def test_a_delivery_deleted_after_its_claim_does_not_stop_the_round(brand, agent, sender):
    first = queued(brand, agent, "un")
    second = queued(brand, agent, "deux")
    third = queued(brand, agent, "trois")

    def delete_second(delivery):
        if delivery.pk == first.pk:
            Message.objects.filter(pk=second.message_id).delete()
        return f"id-{delivery.pk}"

    sender.behaviour = delete_second
    assert deliver_due() == 3
    assert sender.calls == [first.pk, third.pk]
    assert Delivery.objects.get(pk=third.pk).status == DeliveryStatus.SENT


def test_provider_statuses_only_move_forward(brand, agent, sender):
    sender.behaviour = lambda d: "wamid.42"
    delivery = queued(brand, agent)
    deliver_due()

    def status() -> str:
        return Delivery.objects.get(pk=delivery.pk).status

    assert record_provider_status(brand.pk, TEST_CHANNEL, "wamid.42", "delivered") is not None
    assert status() == DeliveryStatus.DELIVERED
    record_provider_status(brand.pk, TEST_CHANNEL, "wamid.42", "read")
    assert status() == DeliveryStatus.READ
    events_before = Event.objects.filter(kind="delivery.updated").count()
    record_provider_status(brand.pk, TEST_CHANNEL, "wamid.42", "delivered")  # arrives late
    record_provider_status(brand.pk, TEST_CHANNEL, "wamid.42", "sent")
    record_provider_status(brand.pk, TEST_CHANNEL, "wamid.42", "failed", error="late")
    assert status() == DeliveryStatus.READ
    assert Event.objects.filter(kind="delivery.updated").count() == events_before
    statuses = [
        e.payload["status"] for e in Event.objects.filter(kind="delivery.updated").order_by("pk")
    ]
    assert statuses == ["sent", "delivered", "read"]


def test_provider_statuses_are_scoped_to_brand_and_known_ids(brand, agent, sender):
    sender.behaviour = lambda d: "wamid.7"
    delivery = queued(brand, agent)
    deliver_due()
    other = make_brand("Rival")
    assert record_provider_status(other.pk, TEST_CHANNEL, "wamid.7", "read") is None
    assert record_provider_status(brand.pk, TEST_CHANNEL, "wamid.unknown", "read") is None
    assert record_provider_status(brand.pk, "whatsapp", "wamid.7", "read") is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT

    record_provider_status(
        brand.pk, TEST_CHANNEL, "wamid.7", "failed", error="131026 undeliverable"
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (
        DeliveryStatus.FAILED,
        "131026 undeliverable",
    )


postgresql_only = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite serialises writers; SKIP LOCKED is what is tested here",
)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_send_one_delivery_twice(sender):
    brand = make_brand("Concurrent")
    agent = make_agent(brand)
    deliveries = [queued(brand, agent, f"réponse {n}") for n in range(40)]

    def slow_send(delivery):
        time.sleep(0.005)  # long enough for rounds to overlap
        return f"id-{delivery.pk}"

    sender.behaviour = slow_send
    workers = 4
    barrier = threading.Barrier(workers)
    errors: list[Exception] = []

    def worker() -> None:
        try:
            barrier.wait()
            while deliver_due(limit=3):
                pass
        except Exception as error:  # reported below with the others
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(sender.calls) == sorted(d.pk for d in deliveries)  # each exactly once
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
