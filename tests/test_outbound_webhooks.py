"""Outbound webhooks against a real HTTP receiver in a thread of the test.

Deliveries are made by the real listener in the event's transaction, sent by the
real task (``run_pending``: what a worker does) over real HTTP to
``tests/webhook_receiver.py``. Backoff is travelled through by making the
waiting deliveries due, as a worker would find them once their time comes.
"""

import json
import socket
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from comptoir.conversations.actions import resolve_conversation, send_reply
from comptoir.events.models import Event
from comptoir.outbound_webhooks import actions
from comptoir.outbound_webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from comptoir.outbound_webhooks.payloads import delivery_body
from comptoir.outbound_webhooks.signing import verify
from comptoir.outbound_webhooks.subscriptions import SUBSCRIBABLE_KINDS
from comptoir.outbound_webhooks.tasks import wake_due_endpoints
from comptoir.privacy.cards import mask_card_numbers
from comptoir.tasks import run_pending
from tests.factories import ingest_chat
from tests.webhook_receiver import start_receiver, stop_receiver

MESSAGES = ["conversation.created", "message.created"]


@pytest.fixture
def receiver():
    started = start_receiver()
    yield started
    stop_receiver(started)


def endpoint_for(admin, url: str, kinds=MESSAGES, *, private: bool = True):
    """An endpoint made by the administrator; ``private``: the operator allowed 127.0.0.1."""
    endpoint, secret = actions.create_endpoint(admin, url=url, kinds=kinds)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(allow_private_addresses=private)
    return endpoint, secret


def make_deliveries_due() -> None:
    """The backoff has passed: what the clock does for a worker, without waiting for it."""
    past = timezone.now() - timedelta(seconds=1)
    WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=past)
    WebhookEndpoint.objects.exclude(next_attempt_at=None).update(next_attempt_at=past)
    wake_due_endpoints()


def a_closed_port() -> int:
    """A port nothing listens on (bound then released): a dead receiver."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_delivery_is_signed_and_carries_its_id_kind_time_and_payload(brand, admin, receiver):
    endpoint, secret = endpoint_for(admin, receiver.url)
    message = ingest_chat(brand, "Ma commande 4242 n'est pas arrivée")
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1  # in its transaction
    run_pending()

    [request] = receiver.received
    header = request.headers["Comptoir-Signature"]
    assert verify(header, request.body, secret)
    assert not verify(header, request.body, "whsec_someone-else")
    assert not verify(header, request.body.replace(b"4242", b"4243"), secret)
    # A replay later than the tolerance is refused by the same check.
    signed_at = int(header.split(",")[0].removeprefix("t="))
    assert not verify(header, request.body, secret, now=signed_at + 301)
    body = request.json
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert body["id"] == request.headers["Comptoir-Delivery"] == str(delivery.uuid)
    assert body["kind"] == request.headers["Comptoir-Event"] == "conversation.created"
    assert body["event_id"] == delivery.event_id
    assert body["brand"] == brand.slug
    assert body["created_at"] == delivery.event.created_at.isoformat()
    assert body["data"]["id"] == message.pk
    assert body["data"]["text"] == "Ma commande 4242 n'est pas arrivée"
    assert delivery.status == DeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.response_status, delivery.error) == (1, 200, "")
    assert delivery.latency_ms is not None and delivery.response_excerpt == '{"ok": true}'


def test_only_the_kinds_an_endpoint_chose_are_sent(brand, admin, agent, receiver):
    endpoint, _ = endpoint_for(admin, receiver.url, kinds=["conversation.updated"])
    message = ingest_chat(brand, "Bonjour")
    send_reply(agent, message.conversation, "Bonjour !")
    resolve_conversation(agent, message.conversation)
    run_pending()
    assert [body["kind"] for body in receiver.bodies()] == ["conversation.updated"]
    assert receiver.bodies()[0]["data"]["status"] == "resolved"
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


def test_another_brands_events_and_a_switched_off_endpoint_get_nothing(
    brand, other_brand, admin, receiver
):
    endpoint, _ = endpoint_for(admin, receiver.url)
    ingest_chat(other_brand, "Ailleurs")
    actions.update_endpoint(
        admin, endpoint, url=endpoint.url, kinds=MESSAGES, description="", is_enabled=False
    )
    ingest_chat(brand, "Pendant la pause")
    run_pending()
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_a_500_is_retried_with_exponential_backoff_and_later_events_wait_in_order(
    brand, admin, receiver
):
    endpoint, _ = endpoint_for(admin, receiver.url)
    receiver.statuses.extend([500, 503])
    first = ingest_chat(brand, "Premier")
    run_pending()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("pending", 1, 500)
    assert delivery.response_excerpt == "receiver says no" and delivery.error == "HTTP 500"
    assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(seconds=30)
    # A later event for the same endpoint waits behind the failing one.
    second = ingest_chat(brand, "Second")
    run_pending()
    assert len(receiver.received) == 1

    make_deliveries_due()
    run_pending()
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.response_status) == (2, 503)
    assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(seconds=60)

    make_deliveries_due()
    run_pending()
    texts = [body["data"]["text"] for body in receiver.bodies()]
    assert texts == ["Premier", "Premier", "Premier", "Second"]
    assert [body["data"]["id"] for body in receiver.bodies()[-2:]] == [first.pk, second.pk]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.next_attempt_at is None


def test_the_backoff_doubles_up_to_its_cap_and_covers_more_than_a_day(settings):
    delays = [actions.retry_delay(n) for n in range(1, 40)]
    assert delays[:3] == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert max(delays) == timedelta(seconds=settings.WEBHOOKS_RETRY_MAX_SECONDS)
    # Retries go on until the endpoint is switched off, days later: well past 24 h.
    assert timedelta(days=settings.WEBHOOKS_DISABLE_AFTER_DAYS) >= timedelta(hours=24)


def test_a_timeout_is_a_failure_retried_later(brand, admin, receiver, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.5
    endpoint_for(admin, receiver.url)
    receiver.slow = True
    ingest_chat(brand, "Lent")
    run_pending()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.error.startswith("timeout") and delivery.response_status is None

    receiver.slow = False
    receiver.released.set()
    make_deliveries_due()
    run_pending()
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2


def test_deliveries_of_one_endpoint_go_in_the_order_of_event_ids(brand, admin, agent, receiver):
    endpoint_for(admin, receiver.url)
    conversation = ingest_chat(brand, "Un").conversation
    for n in range(5):
        send_reply(agent, conversation, f"Réponse {n}")
        ingest_chat(brand, f"Client {n}")
    run_pending()
    event_ids = [body["event_id"] for body in receiver.bodies()]
    assert len(event_ids) == 11
    assert event_ids == sorted(event_ids)


def test_a_dead_endpoint_does_not_hold_a_live_one(brand, admin, receiver, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.5
    dead, _ = endpoint_for(admin, f"http://127.0.0.1:{a_closed_port()}/hooks")
    slow_receiver = start_receiver()
    slow_receiver.slow = True
    try:
        slow, _ = endpoint_for(admin, slow_receiver.url)
        endpoint_for(admin, receiver.url)
        for n in range(3):
            ingest_chat(brand, f"Message {n}")
        run_pending()
    finally:
        stop_receiver(slow_receiver)
    assert [body["data"]["text"] for body in receiver.bodies()] == [
        "Message 0",
        "Message 1",
        "Message 2",
    ]
    for failing in (dead, slow):
        attempts = list(
            WebhookDelivery.objects.filter(endpoint=failing)
            .order_by("event_id")
            .values_list("status", "attempts")
        )
        # Only the first was tried; the others wait behind it, in order.
        assert attempts == [("pending", 1), ("pending", 0), ("pending", 0)]


def test_an_endpoint_failing_for_days_is_switched_off_and_the_administrator_told(
    brand, admin, receiver, settings
):
    settings.WEBHOOKS_DISABLE_AFTER_DAYS = 3
    endpoint, _ = endpoint_for(admin, receiver.url)
    receiver.statuses.extend([500] * 20)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ingest_chat(brand, "Avant la panne")
        run_pending()
    with time_machine.travel(start + timedelta(days=2), tick=False):
        make_deliveries_due()
        run_pending()
    endpoint.refresh_from_db()
    assert endpoint.is_enabled
    with time_machine.travel(start + timedelta(days=3, minutes=1), tick=False):
        make_deliveries_due()
        run_pending()
    endpoint.refresh_from_db()
    assert not endpoint.is_enabled and endpoint.disabled_reason == "HTTP 500"
    event = Event.objects.get(kind="webhook.endpoint_disabled")
    assert event.payload["endpoint_id"] == endpoint.pk and event.brand_id == brand.pk
    assert len(receiver.received) == 3

    # Switched off: new events wait for nothing; switched on again, the kept one goes first.
    ingest_chat(brand, "Pendant l'arrêt")
    run_pending()
    assert len(receiver.received) == 3
    receiver.statuses.clear()
    actions.update_endpoint(
        admin, endpoint, url=endpoint.url, kinds=MESSAGES, description="", is_enabled=True
    )
    ingest_chat(brand, "Après")
    run_pending()
    texts = [body["data"]["text"] for body in receiver.bodies()]
    assert texts[3:] == ["Avant la panne", "Après"]


def test_a_delivery_can_be_sent_again_with_a_new_id(brand, admin, receiver):
    endpoint_for(admin, receiver.url)
    ingest_chat(brand, "Bonjour")
    run_pending()
    original = WebhookDelivery.objects.get()
    again = actions.redeliver(admin, original)
    run_pending()
    first, second = receiver.bodies()
    assert first["event_id"] == second["event_id"] and first["id"] != second["id"]
    assert second["id"] == str(again.uuid)
    again.refresh_from_db()
    assert again.status == "delivered" and again.redelivery_of_id == original.pk


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(brand, admin, receiver):
    endpoint, old = endpoint_for(admin, receiver.url)
    new = actions.rotate_secret(admin, endpoint)
    ingest_chat(brand, "Un")
    run_pending()
    request = receiver.received[-1]
    assert verify(request.headers["Comptoir-Signature"], request.body, old)
    assert verify(request.headers["Comptoir-Signature"], request.body, new)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    ingest_chat(brand, "Deux")
    run_pending()
    request = receiver.received[-1]
    assert verify(request.headers["Comptoir-Signature"], request.body, new)
    assert not verify(request.headers["Comptoir-Signature"], request.body, old)


def test_a_private_address_is_refused_at_send_time_unless_the_operator_allowed_it(
    brand, admin, receiver
):
    endpoint_for(admin, receiver.url, private=False)
    ingest_chat(brand, "Bonjour")
    run_pending()
    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and "private or local address" in delivery.error


def test_the_host_name_is_kept_while_connecting_to_the_checked_address(brand, admin, receiver):
    if socket.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)[0][4][0] != "127.0.0.1":
        pytest.skip("localhost does not resolve to 127.0.0.1 first here")
    port = receiver.server.server_address[1]
    endpoint_for(admin, f"http://localhost:{port}/hooks")
    ingest_chat(brand, "Bonjour")
    run_pending()
    assert receiver.received[0].headers["Host"] == f"localhost:{port}"


def test_the_body_holds_only_documented_fields_and_no_card_number(brand):
    message = ingest_chat(brand, "Bonjour")
    event = Event.objects.filter(kind="conversation.created").get()
    event.payload = {
        **event.payload,
        "text": "carte 4111 1111 1111 1111",
        "internal_score": 0.3,
    }
    body = json.loads(delivery_body("d-1", event, brand.slug))
    assert "internal_score" not in body["data"]
    assert "1111 1111 1111" not in body["data"]["text"]
    assert body["data"]["text"] == mask_card_numbers("carte 4111 1111 1111 1111")
    assert body["data"]["id"] == message.pk


def test_internal_kinds_cannot_be_chosen():
    assert "email.received" not in SUBSCRIBABLE_KINDS
    assert "assistant.intents_changed" not in SUBSCRIBABLE_KINDS
    assert "webhook.endpoint_disabled" not in SUBSCRIBABLE_KINDS
    assert "message.created" in SUBSCRIBABLE_KINDS


def test_a_delivery_exists_exactly_when_its_event_committed(brand, admin, receiver):
    endpoint_for(admin, receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest_chat(brand, "Annulé")
        assert WebhookDelivery.objects.count() == 1  # written in the event's transaction
        raise RuntimeError("the action fails after its event")
    assert not WebhookDelivery.objects.exists()
    run_pending()
    assert receiver.received == []
