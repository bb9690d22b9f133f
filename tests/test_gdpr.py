"""A person's data exported, then erased: afterwards no table, index or file holds a trace.

The erasure test scans every table of the database (every column of every row) and the
stored files for the person's identifiers and texts, and searches for them through the
search interface; it prints what it scanned.
"""

import json
import uuid
from pathlib import Path

import pytest
from django.db import connection

from comptoir.conversations.actions import add_note, send_reply
from comptoir.conversations.inbound import IdentityClaim, InboundAttachment, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Attachment, Conversation, Message
from comptoir.customers.models import Customer, Identity
from comptoir.events.models import Event
from comptoir.search.query import search_conversations
from comptoir.security.models import AuditAction, AuditEntry
from comptoir.tasks import run_pending
from comptoir.tenancy.models import Role
from comptoir.touchpoints.email.models import Mailbox
from comptoir.touchpoints.email.receiving import quarantine_mail, receive_mail
from comptoir.touchpoints.phone.callbacks import request_callback
from tests.factories import make_agent

NAME = "Philomène Zabulon"
EMAIL = "philomene.zabulon@exemple.fr"
PHONE = "+33612345678"
TEXTS = ["Ma commande XQZ-77812 est perdue", "Mon code porte est 4417B", "facture-zabulon"]
PDF = b"%PDF-1.4\nZabulon facture confidentielle\n%%EOF"


@pytest.fixture
def person(brand, agent):
    """A customer with traces everywhere: chat, e-mail, a file, a callback, replies, notes."""
    Mailbox.objects.create(brand=brand, address="support@maison.example", response_time_hours=24)
    visitor = uuid.uuid4().hex
    chat = ingest_message(
        InboundMessage(
            brand=brand,
            channel="webchat",
            external_id=f"{visitor}:1",
            text=TEXTS[0],
            identities=[
                IdentityClaim("chat_visitor", visitor, verified=True),
                IdentityClaim("email", EMAIL, verified=True),
                IdentityClaim("phone", PHONE),
            ],
            display_name=NAME,
            attachments=[InboundAttachment(f"{TEXTS[2]}.pdf", "application/pdf", PDF)],
        )
    ).message
    raw = (
        f"From: {NAME} <{EMAIL}>\r\nTo: support@maison.example\r\nSubject: {TEXTS[1]}\r\n"
        f"Message-ID: <zabulon-1@exemple.fr>\r\n\r\n{TEXTS[1]}\r\n"
    ).encode()
    receive_mail(raw, recipients=None, brand=None, source="smtp")
    quarantine_mail(raw, brand=brand, source="smtp", reason="test", envelope_sender=EMAIL)
    send_reply(agent, chat.conversation, f"Bonjour {NAME}, nous cherchons XQZ-77812")
    add_note(agent, chat.conversation, f"{NAME} semble pressée")
    request_callback(
        brand,
        [IdentityClaim("chat_visitor", visitor, verified=True)],
        PHONE,
        requested_for=None,
        note=f"rappeler {NAME}",
        channel="webchat",
        external_id=f"{visitor}:callback",
        source="widget",
        language="fr",
    )
    run_pending()
    customer = Customer.objects.get(display_name=NAME)
    return customer, visitor


def needles(visitor: str) -> list[str]:
    return [
        NAME,
        "Zabulon",
        EMAIL,
        PHONE,
        "0612345678",
        "612345678",
        visitor,
        "XQZ-77812",
        "4417B",
        "zabulon-1",
    ]


def scan_database(words: list[str]) -> tuple[int, int, list[str]]:
    """(tables, rows, findings): every column of every row of every table."""
    found, rows_seen = [], 0
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608
            for row in cursor.fetchall():
                rows_seen += 1
                text = " ".join(
                    bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
                    for v in row
                )
                found.extend(f"{table}: {w}" for w in words if w.lower() in text.lower())
    return len(tables), rows_seen, found


def test_export_holds_everything_about_the_person(client, brand, person):
    customer, visitor = person
    supervisor = make_agent(brand, Role.SUPERVISOR)
    client.force_login(supervisor.user)
    response = client.get(f"/console/customers/{customer.pk}/export.json")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="customer-{customer.pk}.json"'
    data = json.loads(response.content)
    assert data["customer"]["name"] == NAME
    assert {(i["kind"], i["value"]) for i in data["identities"]} >= {
        ("email", EMAIL),
        ("phone", PHONE),
        ("chat_visitor", visitor),
    }
    texts = [m["text"] for c in data["conversations"] for m in c["messages"]]
    assert TEXTS[0] in texts
    assert any(TEXTS[1] in t for t in texts)
    assert not any("semble pressée" in t for t in texts)  # internal notes are not the person's
    files = [a for c in data["conversations"] for m in c["messages"] for a in m["attachments"]]
    assert [f["filename"] for f in files] == [f"{TEXTS[2]}.pdf"]
    assert data["callbacks"][0]["number"] == PHONE
    assert AuditEntry.objects.filter(
        action=AuditAction.CUSTOMER_EXPORTED, target_id=str(customer.pk)
    ).exists()


def test_erasure_leaves_no_trace_in_any_table_index_or_file(
    client, brand, admin, person, settings, django_capture_on_commit_callbacks
):
    customer, visitor = person
    words = needles(visitor)
    tables, rows, before = scan_database(words)
    assert before  # the scan finds the person before the erasure
    files = [Path(settings.MEDIA_ROOT) / a.file.name for a in Attachment.objects.all()]
    assert files and all(f.exists() for f in files)
    conversations = Conversation.objects.filter(customer=customer).count()
    messages = Message.objects.count()
    events = Event.objects.count()

    client.force_login(admin.user)
    assert client.post(f"/console/customers/{customer.pk}/erase/").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):  # files go once the rows are gone
        response = client.post(f"/console/customers/{customer.pk}/erase/", {"confirm": "erase"})
    assert response.status_code == 200
    assert response.json()["erased"]["identities"] == 3

    tables, rows, after = scan_database(words)
    print(
        f"\nGDPR erasure: {tables} tables, {rows} rows scanned, {len(words)} identifiers and texts"
    )
    assert after == [], after
    assert not any(f.exists() for f in files)
    for path in Path(settings.MEDIA_ROOT).rglob("*"):
        if path.is_file():
            assert b"Zabulon" not in path.read_bytes()
    for word in ("Zabulon", "XQZ-77812", EMAIL, PHONE):
        assert search_conversations(admin, word).total == 0
    # Anonymous aggregates stay: the same conversations, messages and events, without content.
    assert Conversation.objects.filter(customer=customer).count() == conversations
    assert Message.objects.count() == messages
    assert Event.objects.count() == events + 0
    assert not Identity.objects.filter(customer=customer).exists()
    entry = AuditEntry.objects.get(action=AuditAction.CUSTOMER_ERASED)
    assert entry.target_id == str(customer.pk)
    assert entry.username == admin.user.username


def test_only_administrators_erase_and_only_their_brands_customers(client, brand, person, outsider):
    customer, _ = person
    client.force_login(make_agent(brand, Role.SUPERVISOR).user)
    assert (
        client.post(f"/console/customers/{customer.pk}/erase/", {"confirm": "erase"}).status_code
        == 403
    )
    client.force_login(make_agent(outsider.brand, Role.ADMIN).user)
    assert (
        client.post(f"/console/customers/{customer.pk}/erase/", {"confirm": "erase"}).status_code
        == 404
    )
    assert Customer.objects.get(pk=customer.pk).display_name == NAME
