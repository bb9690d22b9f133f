"""The outbox: backoff, giving up, provider statuses, and jobs that never send twice."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from comptoir.conversations.actions import send_automatic_message
from comptoir.conversations.models import Message
from comptoir.events.models import Event
from comptoir.outbox import senders
from comptoir.outbox.actions import record_provider_status, retry_delay
from comptoir.outbox.models import Delivery, DeliveryStatus
from comptoir.outbox.senders import DeliveryError, register_sender
from comptoir.tasks import run_pending
from tests.factories import ingest_chat, make_agent, make_brand
from tests.task_helpers import make_jobs_due

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


def queued(brand, agent, text: str = "Réponse") -> Message:
    """A message on the test channel: its event queues the outbox's job."""
    conversation = ingest_chat(brand, "Bonjour").conversation
    return send_automatic_message(conversation, text, channel=TEST_CHANNEL)


def delivery_of(message: Message) -> Delivery:
    return Delivery.objects.get(message=message)


def delivery_of_sent(message: Message) -> Delivery:
    run_pending()
    return delivery_of(message)


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    make_jobs_due()


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
    message = queued(brand, agent)

    for attempt, delay in [(1, 30), (2, 60)]:
        before = timezone.now()
        assert run_pending() == 1
        delivery = delivery_of(message)
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, attempt)
        assert before + timedelta(seconds=delay) <= delivery.next_attempt_at
        assert delivery.next_attempt_at <= timezone.now() + timedelta(seconds=delay)
        assert run_pending() == 0  # backing off
        make_due(delivery)

    assert run_pending() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert delivery.last_error == "provider busy"
    make_due(delivery)
    assert run_pending() == 0  # failed for good: never tried again
    assert len(sender.calls) == 3


def test_a_permanent_error_fails_at_once(brand, agent, sender):
    def refused(delivery):
        raise DeliveryError("number not on WhatsApp", permanent=True)

    sender.behaviour = refused
    message = queued(brand, agent)
    run_pending()
    delivery = delivery_of(message)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)


def test_a_crashing_sender_is_retried_then_succeeds(brand, agent, sender):
    def crash(delivery):
        raise RuntimeError("library bug")

    sender.behaviour = crash
    message = queued(brand, agent)
    run_pending()
    delivery = delivery_of(message)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error == "RuntimeError: library bug"

    sender.behaviour = lambda d: "wamid.OK"
    make_due(delivery)
    run_pending()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_id, delivery.last_error) == (
        DeliveryStatus.SENT,
        "wamid.OK",
        "",
    )
    assert delivery.sent_at is not None


def test_a_running_delivery_is_not_due_for_another_worker(brand, agent, sender):
    """While one worker sends, a second round (another worker) finds nothing to do."""
    seen_by_second_worker = []
    sender.behaviour = lambda d: seen_by_second_worker.append(run_pending()) or "id-1"
    queued(brand, agent)
    assert run_pending() == 1
    assert seen_by_second_worker == [0]
    assert len(sender.calls) == 1


def test_a_late_failure_never_undoes_another_workers_send(brand, agent, sender, settings):
    """A worker taken for dead mid-send fails after another worker sent the delivery:
    its failure must not put the delivery back in the queue (it would be sent twice)."""
    settings.OUTBOX_MAX_ATTEMPTS = 10

    def slow_then_fails(delivery):
        # Meanwhile this worker was taken for dead and a second worker sent it.
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SENT, provider_id="id-by-worker-2", sent_at=timezone.now()
        )
        raise DeliveryError("connection reset")

    sender.behaviour = slow_then_fails
    message = queued(brand, agent)
    run_pending()
    delivery = delivery_of(message)
    assert (delivery.status, delivery.provider_id) == (DeliveryStatus.SENT, "id-by-worker-2")
    make_due(delivery)
    assert run_pending() == 0


def test_a_message_deleted_before_its_job_runs_does_not_stop_the_others(brand, agent, sender):
    first = queued(brand, agent, "un")
    second = queued(brand, agent, "deux")
    third = queued(brand, agent, "trois")

    def delete_second(delivery):
        if delivery.message_id == first.pk:
            Message.objects.filter(pk=second.pk).delete()
        return f"id-{delivery.pk}"

    sender.behaviour = delete_second
    assert run_pending() == 3
    assert sender.calls == [delivery_of(first).pk, delivery_of(third).pk]
    assert delivery_of(third).status == DeliveryStatus.SENT
    assert not Delivery.objects.filter(message_id=second.pk).exists()


def test_provider_statuses_only_move_forward(brand, agent, sender):
    sender.behaviour = lambda d: "wamid.42"
    delivery_message = queued(brand, agent)
    run_pending()
    delivery = delivery_of(delivery_message)

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
    delivery = delivery_of_sent(queued(brand, agent))
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
    reason="SQLite serialises writers; Procrastinate's SKIP LOCKED is what is tested here",
)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_send_one_delivery_twice(sender):
    brand = make_brand("Concurrent")
    agent = make_agent(brand)
    messages = [queued(brand, agent, f"réponse {n}") for n in range(40)]

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
            while run_pending(limit=3):
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
    deliveries = Delivery.objects.filter(message__in=messages)
    assert sorted(sender.calls) == sorted(d.pk for d in deliveries)  # each exactly once
    assert len(sender.calls) == len(messages)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
