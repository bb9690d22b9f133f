"""A corpus of card numbers through every way text comes in: none is stored, logged or filed.

Each card number of ``CORPUS`` (Visa, Mastercard, Amex, Discover, Diners, JCB,
UnionPay, Maestro) is written with spaces, dashes, dots or nothing, followed by
an expiry date and a security code, and sent through every channel path: the
widget (message, name, file name, callback note), e-mail (subject, plain body,
HTML body, file name; and a mail that is quarantined raw), the phone (transcript),
WhatsApp, Messenger, the REST API (agent reply, callback note), an agent's note
and the import API. Then every column of every table, the captured log records
and every stored file (names and contents) are scanned: no card number, with or
without its separators, and no security code after its card, may be found.
"""

import json
import logging
import uuid
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from comptoir.conversations.actions import add_note
from comptoir.conversations.models import Message
from comptoir.tenancy.models import ApiToken, Role
from comptoir.touchpoints.email.models import Mailbox
from comptoir.touchpoints.email.receiving import receive_mail
from comptoir.touchpoints.messaging.models import MessagingAccount
from comptoir.touchpoints.messaging.signatures import signature_for
from comptoir.touchpoints.phone.calls import record_call_event
from comptoir.touchpoints.phone.events import CallEventKind
from comptoir.touchpoints.phone.models import PhoneLine, Provider
from tests.factories import ingest_chat, make_agent
from tests.test_assistant import call_report

# (scheme, number, how its digits are grouped when written with separators)
CORPUS = [
    ("visa", "4111111111111111", (4, 4, 4, 4)),
    ("visa", "4012888888881881", (4, 4, 4, 4)),
    ("visa", "4000056655665556", (4, 4, 4, 4)),
    ("mastercard", "5555555555554444", (4, 4, 4, 4)),
    ("mastercard", "5105105105105100", (4, 4, 4, 4)),
    ("mastercard", "2223003122003222", (4, 4, 4, 4)),
    ("amex", "378282246310005", (4, 6, 5)),
    ("amex", "371449635398431", (4, 6, 5)),
    ("discover", "6011111111111117", (4, 4, 4, 4)),
    ("discover", "6011000990139424", (4, 4, 4, 4)),
    ("diners", "30569309025904", (4, 6, 4)),
    ("diners", "38520000023237", (4, 6, 4)),
    ("jcb", "3566002020360505", (4, 4, 4, 4)),
    ("unionpay", "6200000000000005", (4, 4, 4, 4)),
    ("maestro", "6759649826438453", (4, 4, 4, 4)),
]
SEPARATORS = ["", " ", "-", "."]
SUPPORT = "support@maison.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def written(number: str, groups: tuple[int, ...], separator: str) -> str:
    parts, start = [], 0
    for size in groups:
        parts.append(number[start : start + size])
        start += size
    return separator.join(parts)


def security_code(index: int) -> str:
    return f"{7 + index % 3}{(index * 7) % 10}{(index * 3 + 1) % 10}"


def corpus_lines(separator_shift: int = 0) -> list[str]:
    """One line per card: the number (separators rotating), an expiry and its code."""
    lines = []
    for index, (_, number, groups) in enumerate(CORPUS):
        separator = SEPARATORS[(index + separator_shift) % len(SEPARATORS)]
        label = "cvv " if index % 2 else ""
        lines.append(
            f"Ma carte {written(number, groups, separator)} exp 12/27 {label}{security_code(index)}"
        )
    return lines


def corpus_text(separator_shift: int = 0) -> str:
    return "\n".join(corpus_lines(separator_shift))


def leaks(text: str) -> list[str]:
    """Card numbers (separators removed first) and codes written after their card in ``text``."""
    flat = text.replace(" ", "").replace("-", "").replace(".", "")
    found = [number for _, number, _ in CORPUS if number in flat]
    for index in range(len(CORPUS)):
        code = security_code(index)
        if f"12/27 {code}" in text or f"cvv {code}" in text:
            found.append(f"code {code}")
    return found


def scan_tables() -> tuple[int, int, list[str]]:
    """(tables, rows, findings) over every column of every row of every table."""
    findings, rows = [], 0
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                rows += 1
                text = " ".join(
                    bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
                    for v in row
                )
                findings.extend(f"{table}: {leak}" for leak in leaks(text))
    return len(tables), rows, findings


def scan_files() -> tuple[int, list[str]]:
    findings, count = [], 0
    for path in Path(settings.MEDIA_ROOT).rglob("*"):
        if path.is_file():
            count += 1
            findings.extend(f"file name {path.name}: {leak}" for leak in leaks(str(path)))
            content = path.read_bytes().decode("latin-1")
            findings.extend(f"file {path.name}: {leak}" for leak in leaks(content))
    return count, findings


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _widget(client, brand) -> list[str]:
    token = client.post(
        "/widget/api/session", {"brand": brand.slug}, content_type="application/json"
    ).json()["token"]
    paths = []
    for shift, line in enumerate(corpus_lines()):
        number = CORPUS[shift][1]
        upload = ContentFile(PNG, name=f"scan {written(number, CORPUS[shift][2], '-')}.png")
        response = client.post(
            "/widget/api/messages",
            {"text": line, "client_id": str(uuid.uuid4()), "files": [upload]},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 201, response.content
    paths += ["widget message", "widget file name"]
    response = client.post(
        "/widget/api/identify",
        {"email": "lea@exemple.fr", "name": f"Lea {CORPUS[0][1]}"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    paths.append("widget name")
    response = client.post(
        reverse("phone:widget_callback"),
        data={
            "number": "06 12 34 56 78",
            "when": "now",
            "client_id": str(uuid.uuid4()),
            "note": " ".join(corpus_lines(1)[:2]),
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code in (200, 201), response.content
    paths.append("widget callback note")
    return paths


def _email(brand) -> list[str]:
    Mailbox.objects.create(brand=brand, address=SUPPORT)
    message = EmailMessage()
    message["From"] = "Ana Lima <ana@example.com>"
    message["To"] = SUPPORT
    message["Subject"] = f"Ma carte {CORPUS[3][1]} cvv 123"
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = "<corpus-1@example.com>"
    message.set_content(corpus_text(2))
    html = "".join(f"<p>{line}</p>" for line in corpus_lines(3))
    message.add_alternative(f"<html><body>{html}</body></html>", subtype="html")
    message.add_attachment(
        PNG, maintype="image", subtype="png", filename=f"carte {CORPUS[6][1]}.png"
    )
    receive_mail(message.as_bytes(), recipients=None, brand=None, source="smtp")
    # No sender: quarantined raw (its card numbers masked in the raw bytes).
    raw = (
        f"From: Ana Lima\r\nTo: {SUPPORT}\r\nSubject: Carte {CORPUS[0][1]}\r\n"
        f"Message-ID: <corpus-2@example.com>\r\n\r\n{corpus_text()}\r\n"
    ).encode()
    receive_mail(raw, recipients=None, brand=None, source="smtp")
    return ["e-mail subject", "e-mail body", "e-mail HTML", "e-mail file name", "quarantine"]


def _phone(brand) -> list[str]:
    record_call_event(brand, call_report(CallEventKind.QUEUED, "corpus-q"))
    record_call_event(
        brand, call_report(CallEventKind.TRANSCRIPT, "corpus-t", transcript=corpus_text(1))
    )
    return ["phone transcript"]


def _social(client, brand) -> list[str]:
    for provider, external_id in (("whatsapp", "109876543210"), ("messenger", "555000111222")):
        MessagingAccount.objects.create(
            brand=brand,
            provider=provider,
            external_id=external_id,
            access_token="token",
            app_secret=f"{provider}-secret",
            verify_token="verify",
        )
    whatsapp = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA-1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": "109876543210"},
                            "contacts": [
                                {"profile": {"name": f"Léa {CORPUS[1][1]}"}, "wa_id": "33611"}
                            ],
                            "messages": [
                                {
                                    "from": "33611",
                                    "id": "wamid.CORPUS",
                                    "timestamp": "1700000000",
                                    "type": "text",
                                    "text": {"body": corpus_text(2)},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    messenger = {
        "object": "page",
        "entry": [
            {
                "id": "555000111222",
                "time": 1700000000000,
                "messaging": [
                    {
                        "sender": {"id": "6254789"},
                        "recipient": {"id": "555000111222"},
                        "timestamp": 1700000000000,
                        "message": {"mid": "m_CORPUS", "text": corpus_text(3)},
                    }
                ],
            }
        ],
    }
    for provider, payload in (("whatsapp", whatsapp), ("messenger", messenger)):
        body = json.dumps(payload).encode()
        response = client.post(
            reverse(f"messaging:{provider}_webhook", kwargs={"brand_slug": brand.slug}),
            data=body,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=signature_for(body, f"{provider}-secret"),
        )
        assert response.status_code == 200, response.content
    return ["WhatsApp", "Messenger"]


def _api_note_and_import(client, brand) -> list[str]:
    admin = make_agent(brand, Role.ADMIN, first_name="Ada")
    _, key = ApiToken.issue(admin, "corpus")
    conversation = ingest_chat(brand, "Bonjour", visitor_id="e" * 32).conversation
    response = client.post(
        f"/api/conversations/{conversation.pk}/messages",
        json.dumps({"text": corpus_text(1)}),
        content_type="application/json",
        **bearer(key),
    )
    assert response.status_code == 201, response.content
    response = client.post(
        "/api/callbacks",
        json.dumps({"number": "06 12 34 56 79", "note": " ".join(corpus_lines(2)[:6])}),
        content_type="application/json",
        **bearer(key),
    )
    assert response.status_code in (200, 201), response.content
    add_note(admin, conversation, corpus_text(3))
    now = timezone.now().isoformat()
    past = {
        "source": "crm",
        "external_id": "corpus-1",
        "customer": {"external_id": "c-1", "name": f"Paul {CORPUS[2][1]}", "email": "p@ex.fr"},
        "subject": f"Carte {CORPUS[4][1]}",
        "status": "resolved",
        "channel": "email",
        "created_at": now,
        "messages": [
            {"external_id": "m-1", "author": "customer", "text": corpus_text(), "created_at": now},
            {
                "external_id": "m-2",
                "author": "agent",
                "text": corpus_text(1),
                "internal_note": True,
                "created_at": now,
            },
        ],
    }
    response = client.post(
        "/api/imports/conversations",
        json.dumps(past),
        content_type="application/json",
        **bearer(key),
    )
    assert response.status_code in (200, 201), response.content
    return ["API reply", "API callback note", "agent note", "import API"]


def test_no_card_number_survives_any_channel(client, brand, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="comptoir")  # its own level is INFO
    PhoneLine.objects.create(
        brand=brand, number="+33180000001", provider=Provider.LOG, webhook_secret="s"
    )
    paths = [
        *_widget(client, brand),
        *_email(brand),
        *_phone(brand),
        *_social(client, brand),
        *_api_note_and_import(client, brand),
    ]
    # Every channel brought its text in (masked): the scan below looks where it went.
    reached = set(Message.objects.filter(text__contains="******").values_list("channel", flat=True))
    assert reached >= {"webchat", "email", "phone", "whatsapp", "messenger", "api"}, reached

    tables, rows, in_tables = scan_tables()
    files, in_files = scan_files()
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {getattr(record, 'exc_text', '') or ''}"
        for record in caplog.records
    )
    in_logs = [f"log: {leak}" for leak in leaks(logged)]
    tried = len(CORPUS) * len(SEPARATORS)
    print(
        f"\nPAN corpus: {len(CORPUS)} card numbers x {len(SEPARATORS)} ways of writing them "
        f"({tried} forms) through {len(paths)} paths ({', '.join(paths)}); scanned {tables} "
        f"tables ({rows} rows), {files} stored files, {len(caplog.records)} log records"
    )
    assert in_tables + in_files + in_logs == []
