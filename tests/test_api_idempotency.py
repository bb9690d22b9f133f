"""``Idempotency-Key`` on every REST write: a retry returns the first answer and does nothing.

Every write endpoint of the OpenAPI document has a case below (a test fails when a new
one has none); each is sent, then retried with the same key, and the rows it touches
are compared: changed once, not twice.
"""

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from comptoir.api.idempotency import HEADER, REPLAYED_HEADER
from comptoir.api.models import IdempotencyKey
from comptoir.api.tasks import purge_idempotency_keys
from comptoir.api.urls import api
from comptoir.appointments.actions import available_slots, book_appointment
from comptoir.appointments.models import Appointment
from comptoir.assistant.models import AssistantSettings, Intent, KnowledgeArticle
from comptoir.conversations.actions import resolve_conversation
from comptoir.conversations.models import Conversation, Message
from comptoir.customers.actions import link_identity
from comptoir.customers.merging import merge_customers
from comptoir.customers.models import Customer, DuplicateProposal, Identity, MergeRecord
from comptoir.events.models import Event
from comptoir.moving_in.models import ImportedRecord
from comptoir.outbound_webhooks.models import WebhookDelivery, WebhookEndpoint
from comptoir.tenancy.models import ApiToken, Membership, Role
from comptoir.touchpoints.phone.calls import record_call_event
from comptoir.touchpoints.phone.events import CallEventKind
from comptoir.touchpoints.phone.models import CallbackRequest
from tests.appointment_helpers import diagnosis, shop
from tests.factories import ingest_chat, make_agent, make_brand
from tests.test_assistant import call_report

postgresql_only = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite serialises writers: no two requests are ever in progress at once",
)

# The tables a write may change; the idempotency keys themselves are left out.
WATCHED = [
    Event,
    Message,
    Conversation,
    Customer,
    Identity,
    DuplicateProposal,
    MergeRecord,
    CallbackRequest,
    Intent,
    KnowledgeArticle,
    AssistantSettings,
    Membership,
    WebhookEndpoint,
    WebhookDelivery,
    ImportedRecord,
    Appointment,
]


def snapshot() -> list:
    return [sorted(map(repr, model.objects.values())) for model in WATCHED]


def call(client: Client, key: str | None, token: str, method: str, url: str, body=None):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers[HEADER] = key
    data = "" if body is None else json.dumps(body)
    return client.generic(method, url, data, content_type="application/json", headers=headers)


@dataclass
class World:
    admin: Membership
    token: str
    conversation: Conversation
    resolved: Conversation
    identity: Identity
    other: Customer
    proposal: DuplicateProposal
    merge: MergeRecord
    intent: Intent
    article: KnowledgeArticle
    # A phone call's contact: what the telephony's post-call survey answer names.
    call_contact_id: int
    endpoint: WebhookEndpoint
    delivery: WebhookDelivery
    appointment: Appointment
    free_slots: list[str]  # starts of free slots of the appointment's service, ISO 8601


@pytest.fixture
def world(brand) -> World:
    admin = make_agent(brand, Role.ADMIN, "Ada")
    conversation = ingest_chat(brand, "Bonjour", visitor_id="1" * 32).conversation
    resolved = ingest_chat(brand, "Merci", visitor_id="2" * 32).conversation
    resolve_conversation(admin, resolved)
    identity = link_identity(conversation.customer, "email", "lea@client.example").identity
    other = ingest_chat(brand, "Re", visitor_id="3" * 32).conversation.customer
    proposal = DuplicateProposal.objects.create(
        brand=brand, customer_a=conversation.customer, customer_b=other, reasons=[], score=0.9
    )
    survivor = ingest_chat(brand, "A", visitor_id="4" * 32).conversation.customer
    absorbed = ingest_chat(brand, "B", visitor_id="5" * 32).conversation.customer
    merge = merge_customers(admin, survivor, absorbed)
    intent = Intent.objects.create(
        brand=brand, name="horaires", label="Horaires", training_phrases_fr=["vos horaires ?"]
    )
    article = KnowledgeArticle.objects.create(brand=brand, title="Retours", body="30 jours")
    call = record_call_event(brand, call_report(CallEventKind.QUEUED, "q")).call
    endpoint = WebhookEndpoint.objects.create(
        brand=brand, url=HOOK["url"], kinds=HOOK["kinds"], secret="whsec_tests"
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=Event.objects.filter(brand=brand).first(),
        kind="message.created",
        next_attempt_at=timezone.now(),
    )
    location, service = shop(brand), diagnosis(brand)
    now = timezone.now()
    slots = [s.starts_at for s in available_slots(location, service, now, now + timedelta(days=8))]
    # Another customer's booking: its note stays out of ``conversation`` (counted below).
    booker = ingest_chat(brand, "Rendez-vous", visitor_id="6" * 32).conversation.customer
    appointment = book_appointment(location, service, slots[0], customer=booker)
    return World(
        admin=admin,
        token=ApiToken.issue(admin, "tests")[1],
        conversation=conversation,
        resolved=resolved,
        identity=identity,
        other=other,
        proposal=proposal,
        merge=merge,
        intent=intent,
        article=article,
        call_contact_id=call.contact_id,
        endpoint=endpoint,
        delivery=delivery,
        appointment=appointment,
        free_slots=[slot.isoformat() for slot in slots[1:3]],
    )


INTENT = {"name": "livraison", "label": "Livraison", "training_phrases_fr": ["mon colis ?"]}
ARTICLE = {"language": "fr", "title": "Livraison", "body": "48 h"}
SETTINGS = {
    "enabled": True,
    "confidence_threshold": 0.7,
    "answer_channels": ["webchat"],
    "action_base_url": "",
    "timeout_seconds": 5,
}

HOOK = {"url": "https://8.8.8.8/hooks", "kinds": ["message.created"]}
PAST = {
    "source": "crm",
    "external_id": "T-1",
    "customer": {"external_id": "C-1", "email": "ines@client.example"},
    "status": "resolved",
    "channel": "email",
    "created_at": "2024-11-02T09:00:00+01:00",
    "messages": [
        {
            "external_id": "m1",
            "author": "customer",
            "text": "Ma bouilloire est en panne.",
            "created_at": "2024-11-02T09:00:00+01:00",
        }
    ],
}

# (method, path in the OpenAPI document) → the request for that world.
WRITES: dict[tuple[str, str], Callable[[World], tuple[str, dict | None]]] = {
    ("post", "/api/conversations/{conversation_id}/messages"): lambda w: (
        f"/api/conversations/{w.conversation.pk}/messages",
        {"text": "Votre colis part demain."},
    ),
    ("post", "/api/conversations/{conversation_id}/assign"): lambda w: (
        f"/api/conversations/{w.conversation.pk}/assign",
        {"assignee_id": w.admin.pk},
    ),
    ("post", "/api/conversations/{conversation_id}/resolve"): lambda w: (
        f"/api/conversations/{w.conversation.pk}/resolve",
        None,
    ),
    ("post", "/api/conversations/{conversation_id}/pending"): lambda w: (
        f"/api/conversations/{w.conversation.pk}/pending",
        None,
    ),
    ("post", "/api/conversations/{conversation_id}/reopen"): lambda w: (
        f"/api/conversations/{w.resolved.pk}/reopen",
        None,
    ),
    ("put", "/api/conversations/{conversation_id}/tags"): lambda w: (
        f"/api/conversations/{w.conversation.pk}/tags",
        {"tags": ["livraison", "urgent"]},
    ),
    ("put", "/api/me/availability"): lambda w: ("/api/me/availability", {"availability": "away"}),
    ("post", "/api/customers/{customer_id}/identities"): lambda w: (
        f"/api/customers/{w.conversation.customer_id}/identities",
        {"kind": "email", "value": "lea.pro@client.example"},
    ),
    ("post", "/api/identities/{identity_id}/verify"): lambda w: (
        f"/api/identities/{w.identity.pk}/verify",
        None,
    ),
    ("delete", "/api/identities/{identity_id}"): lambda w: (
        f"/api/identities/{w.identity.pk}",
        None,
    ),
    ("put", "/api/customers/{customer_id}/advisor"): lambda w: (
        f"/api/customers/{w.conversation.customer_id}/advisor",
        {"advisor_id": w.admin.pk},
    ),
    ("post", "/api/duplicates/{proposal_id}/dismiss"): lambda w: (
        f"/api/duplicates/{w.proposal.pk}/dismiss",
        None,
    ),
    ("post", "/api/customers/{customer_id}/merge"): lambda w: (
        f"/api/customers/{w.conversation.customer_id}/merge",
        {"absorbed_id": w.other.pk},
    ),
    ("post", "/api/merges/{merge_id}/unmerge"): lambda w: (
        f"/api/merges/{w.merge.pk}/unmerge",
        None,
    ),
    ("post", "/api/callbacks"): lambda w: ("/api/callbacks", {"number": "+33612345678"}),
    ("put", "/api/assistant/settings"): lambda w: ("/api/assistant/settings", SETTINGS),
    ("post", "/api/assistant/intents"): lambda w: ("/api/assistant/intents", INTENT),
    ("put", "/api/assistant/intents/{intent_id}"): lambda w: (
        f"/api/assistant/intents/{w.intent.pk}",
        {**INTENT, "name": "horaires"},
    ),
    ("delete", "/api/assistant/intents/{intent_id}"): lambda w: (
        f"/api/assistant/intents/{w.intent.pk}",
        None,
    ),
    ("post", "/api/assistant/articles"): lambda w: ("/api/assistant/articles", ARTICLE),
    ("put", "/api/assistant/articles/{article_id}"): lambda w: (
        f"/api/assistant/articles/{w.article.pk}",
        ARTICLE,
    ),
    ("delete", "/api/assistant/articles/{article_id}"): lambda w: (
        f"/api/assistant/articles/{w.article.pk}",
        None,
    ),
    ("post", "/api/conversations/{conversation_id}/survey"): lambda w: (
        f"/api/conversations/{w.conversation.pk}/survey",
        None,
    ),
    ("post", "/api/contacts/{contact_id}/survey"): lambda w: (
        f"/api/contacts/{w.call_contact_id}/survey",
        {"csat": 4, "ces": 5},
    ),
    ("post", "/api/webhooks/endpoints"): lambda w: ("/api/webhooks/endpoints", HOOK),
    ("put", "/api/webhooks/endpoints/{endpoint_id}"): lambda w: (
        f"/api/webhooks/endpoints/{w.endpoint.pk}",
        {**HOOK, "description": "CRM"},
    ),
    ("delete", "/api/webhooks/endpoints/{endpoint_id}"): lambda w: (
        f"/api/webhooks/endpoints/{w.endpoint.pk}",
        None,
    ),
    ("post", "/api/webhooks/endpoints/{endpoint_id}/rotate-secret"): lambda w: (
        f"/api/webhooks/endpoints/{w.endpoint.pk}/rotate-secret",
        None,
    ),
    ("post", "/api/webhooks/deliveries/{delivery_id}/redeliver"): lambda w: (
        f"/api/webhooks/deliveries/{w.delivery.pk}/redeliver",
        None,
    ),
    ("post", "/api/imports/conversations"): lambda w: ("/api/imports/conversations", PAST),
    ("post", "/api/appointments"): lambda w: (
        "/api/appointments",
        {
            "customer_id": w.other.pk,
            "location_id": w.appointment.location_id,
            "service_id": w.appointment.service_id,
            "starts_at": w.free_slots[0],
        },
    ),
    ("post", "/api/appointments/{appointment_id}/reschedule"): lambda w: (
        f"/api/appointments/{w.appointment.pk}/reschedule",
        {"starts_at": w.free_slots[1]},
    ),
    ("post", "/api/appointments/{appointment_id}/cancel"): lambda w: (
        f"/api/appointments/{w.appointment.pk}/cancel",
        None,
    ),
}
# Writes by method, though they change nothing: a key is accepted and replayed all the same.
READS_BY_POST = {("post", "/api/assistant/predict")}


def test_every_write_endpoint_has_a_case():
    documented = {
        (method, path)
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method in operations
        if method in {"post", "put", "patch", "delete"}
    }
    assert documented == set(WRITES) | READS_BY_POST


@pytest.mark.parametrize("operation", sorted(WRITES), ids=lambda op: f"{op[0]} {op[1]}")
def test_a_retry_with_the_same_key_does_it_once_and_answers_the_same(client, world, operation):
    method, _ = operation
    url, body = WRITES[operation](world)
    key = str(uuid.uuid4())
    before = snapshot()
    first = call(client, key, world.token, method.upper(), url, body)
    assert 200 <= first.status_code < 300, first.content
    done = snapshot()
    assert done != before  # it did something
    retry = call(client, key, world.token, method.upper(), url, body)
    assert (retry.status_code, retry.content) == (first.status_code, first.content)
    assert retry[REPLAYED_HEADER] == "true"
    assert snapshot() == done  # and not twice
    assert IdempotencyKey.objects.filter(key=key).count() == 1


def message_url(world: World) -> str:
    return f"/api/conversations/{world.conversation.pk}/messages"


def replies(world: World) -> int:
    return Message.objects.filter(conversation=world.conversation, direction="out").count()


def test_without_a_key_a_retry_is_a_second_reply(client, world):
    for _ in range(2):
        call(client, None, world.token, "POST", message_url(world), {"text": "Bonjour"})
    assert replies(world) == 2


def test_the_same_key_with_another_body_or_path_is_refused(client, world):
    key = "order-42-reply"
    call(client, key, world.token, "POST", message_url(world), {"text": "Bonjour"})
    response = call(client, key, world.token, "POST", message_url(world), {"text": "Autre"})
    assert response.status_code == 422
    assert HEADER in response.json()["detail"]
    response = call(client, key, world.token, "POST", f"{message_url(world)}?x=1", None)
    assert response.status_code == 422
    assert replies(world) == 1


def test_the_same_body_written_otherwise_is_the_same_request(client, world):
    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {world.token}", HEADER: key}
    for raw in (
        '{"text": "Bonjour", "internal_note": false}',
        '{"internal_note":false,"text":"Bonjour"}',
    ):
        response = client.post(
            message_url(world), raw, content_type="application/json", headers=headers
        )
        assert response.status_code == 201
    assert replies(world) == 1


def test_keys_of_another_agent_or_brand_are_independent(client, world, brand, outsider):
    colleague_token = ApiToken.issue(make_agent(brand, Role.AGENT, "Bea"), "t")[1]
    outsider_token = ApiToken.issue(outsider, "t")[1]
    foreign = ingest_chat(outsider.brand, "Hola", visitor_id="9" * 32).conversation
    key = "same-key"
    body = {"text": "Bonjour"}
    assert call(client, key, world.token, "POST", message_url(world), body).status_code == 201
    assert call(client, key, colleague_token, "POST", message_url(world), body).status_code == 201
    assert replies(world) == 2
    foreign_url = f"/api/conversations/{foreign.pk}/messages"
    assert call(client, key, outsider_token, "POST", foreign_url, body).status_code == 201
    # And another brand's agent never reads this brand's answer through a shared key.
    response = call(client, key, outsider_token, "POST", message_url(world), body)
    assert response.status_code == 422 or response.status_code == 404


def test_an_error_is_not_recorded_and_the_retry_runs_again(client, world):
    key = str(uuid.uuid4())
    url = f"/api/conversations/{world.resolved.pk}/messages"
    response = call(client, key, world.token, "POST", url, {"text": "Bonjour"})
    assert response.status_code == 409  # a resolved conversation: reopen first
    assert not IdempotencyKey.objects.filter(key=key).exists()
    call(client, None, world.token, "POST", f"/api/conversations/{world.resolved.pk}/reopen")
    assert call(client, key, world.token, "POST", url, {"text": "Bonjour"}).status_code == 201


@pytest.mark.parametrize("key", ["", " ", "a" * 256, "clé", "two words"])
def test_a_malformed_key_is_refused(client, world, key):
    response = call(client, key, world.token, "POST", message_url(world), {"text": "Bonjour"})
    assert response.status_code == 400
    assert HEADER in response.json()["detail"]
    assert replies(world) == 0


def test_reads_ignore_the_header(client, world):
    response = call(client, "k", world.token, "GET", message_url(world))
    assert response.status_code == 200
    assert not IdempotencyKey.objects.exists()


def test_keys_expire_after_a_day_and_are_purged(client, world):
    key = str(uuid.uuid4())
    body = {"text": "Bonjour"}
    call(client, key, world.token, "POST", message_url(world), body)
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert call(client, key, world.token, "POST", message_url(world), body).status_code == 201
    assert replies(world) == 2  # expired: a new request
    fresh = IdempotencyKey.objects.get()
    assert fresh.created_at > timezone.now() - timedelta(hours=1)
    call(client, "old", world.token, "POST", message_url(world), body)
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=24, seconds=1)
    )
    purge_idempotency_keys()
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == [key]


# PostgreSQL: requests in progress at the same time


def advisory_lock_id(membership: Membership, key: str) -> int:
    import hashlib

    name = f"idempotency:{membership.brand_id}:{membership.pk}:{key}".encode()
    return int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_key_in_progress_answers_409_then_the_retry_runs():
    brand = make_brand()
    agent = make_agent(brand)
    token = ApiToken.issue(agent, "t")[1]
    conversation = ingest_chat(brand, "Bonjour", visitor_id="6" * 32).conversation
    url = f"/api/conversations/{conversation.pk}/messages"
    key = str(uuid.uuid4())
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def first_request_in_progress() -> None:
        # What a first request running holds: the key's transaction lock.
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_lock_id(agent, key)])
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=first_request_in_progress)
    thread.start()
    assert holding.wait(timeout=30)
    response = call(Client(), key, token, "POST", url, {"text": "Bonjour"})
    release.set()
    thread.join()
    assert response.status_code == 409
    assert "in progress" in response.json()["detail"]
    assert Message.objects.filter(conversation=conversation, direction="out").count() == 0
    assert call(Client(), key, token, "POST", url, {"text": "Bonjour"}).status_code == 201


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_one_key_do_it_once():
    brand = make_brand()
    agent = make_agent(brand)
    token = ApiToken.issue(agent, "t")[1]
    conversation = ingest_chat(brand, "Bonjour", visitor_id="7" * 32).conversation
    url = f"/api/conversations/{conversation.pk}/messages"
    for round_ in range(5):
        key = f"concurrent-{round_}"
        barrier = threading.Barrier(2)
        answers: list = []

        def send(key: str = key, barrier: threading.Barrier = barrier, answers=answers) -> None:
            try:
                barrier.wait()
                response = call(Client(), key, token, "POST", url, {"text": key})
                answers.append((response.status_code, response.content))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert Message.objects.filter(conversation=conversation, text=key).count() == 1
        statuses = sorted(status for status, _ in answers)
        assert statuses in ([201, 201], [201, 409]), answers
        if statuses == [201, 201]:  # the second one came after the first committed: a replay
            assert answers[0][1] == answers[1][1]
