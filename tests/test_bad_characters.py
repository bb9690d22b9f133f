"""NUL and lone surrogates on every channel: stored without them, answered 2xx.

PostgreSQL refuses NUL in text and psycopg cannot encode a lone surrogate: before
``comptoir.text_cleaning`` such a character failed the request (500), or a whole
WhatsApp batch forever (503 on every redelivery). These tests run on both
databases; on PostgreSQL they are the ones that used to fail.
"""

import json
import smtplib
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse

from comptoir.conversations.models import Attachment, Message
from comptoir.customers.models import Identity
from comptoir.tenancy.models import ApiToken, Role
from comptoir.touchpoints.email.models import Mailbox, QuarantinedMail
from comptoir.touchpoints.email.receiving import receive_mail
from comptoir.touchpoints.email.smtp_server import smtp_controller
from comptoir.touchpoints.phone.models import CallbackRequest
from tests.factories import ingest_chat, make_agent
from tests.live_server import free_port
from tests.test_callbacks import callback_body, widget_request
from tests.test_messaging import (  # noqa: F401 — fixtures
    fb_account,
    fb_event,
    fb_payload,
    graph,
    post_fb,
    post_wa,
    wa_account,
    wa_payload,
    wa_text,
)
from tests.test_phone import T0, event, line, post_generic, post_twilio, twilio_params  # noqa: F401
from tests.test_widget import PNG, identify, send, start_session, upload

SUPPORT = "support@maison.example"


def raw_mail(message_id: str, *, to: str = SUPPORT) -> bytes:
    """A mail with NUL in its sender's name, subject, body and attachment name."""
    return (
        "From: =?utf-8?q?L=C3=A9a=00_Martin?= <lea@client.example>\r\n"
        f"To: {to}\r\n"
        "Subject: Commande\x00 perdue\r\n"
        f"Message-ID: <{message_id}>\r\n"
        "Date: Tue, 24 Nov 2026 09:00:00 +0100\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Bonjour,\x00 o\u00f9 est mon colis ?\r\n"
        "--b1\r\n"
        'Content-Type: text/plain; name="bon\x00.txt"\r\n'
        'Content-Disposition: attachment; filename="bon\x00.txt"\r\n'
        "\r\n"
        "commande 42\r\n"
        "--b1--\r\n"
    ).encode()


def assert_clean_mail(message_id: str) -> Message:
    message = Message.objects.get(channel="email", external_id=message_id)
    assert "\x00" not in message.text and "Bonjour, où est mon colis ?" in message.text
    assert message.conversation.subject == "Commande perdue"
    assert message.conversation.customer.display_name == "Léa Martin"
    assert list(message.attachments.values_list("filename", flat=True)) == ["bon.txt"]
    return message


# Widget


def test_widget_text_and_upload_name(client, brand):
    token = start_session(client, brand).json()["token"]
    response = send(client, token, "a\x00b", files=[upload("ph\x00oto.png", PNG, "image/png")])
    assert response.status_code == 201, response.content
    message = Message.objects.get(channel="webchat")
    assert message.text == "ab"
    assert Attachment.objects.get(message=message).filename == "photo.png"


def test_widget_name_and_email(client, brand):
    token = start_session(client, brand, language="fr\x00").json()["token"]
    send(client, token, "bonjour")
    response = identify(client, token, email="lea\x00@client.example", name="Lé\x00a")
    assert response.status_code == 200, response.content
    identity = Identity.objects.get(kind="email")
    assert identity.value == "lea@client.example"
    assert identity.customer.display_name == "Léa"


def test_widget_callback_request(client, brand, line):  # noqa: F811
    token = start_session(client, brand).json()["token"]
    response = widget_request(client, token, callback_body(note="rappel\x00 svp"))
    assert response.status_code in (200, 201), response.content
    assert CallbackRequest.objects.get().note == "rappel svp"


# WhatsApp and Messenger


def test_whatsapp_batch_with_a_bad_and_a_good_message_stores_both(client, brand, wa_account):  # noqa: F811
    contacts = [{"profile": {"name": "Lé\x00a"}, "wa_id": "33612345678"}]
    batch = wa_payload(
        [wa_text("wamid.BAD", "a\x00b"), wa_text("wamid.GOOD", "Bonjour")], contacts=contacts
    )
    response = post_wa(client, brand, batch)
    assert response.status_code == 200, response.content
    assert Message.objects.get(external_id="wamid.BAD").text == "ab"
    assert Message.objects.get(external_id="wamid.GOOD").text == "Bonjour"
    # A redelivery is the no-op it should be, not another failure.
    assert post_wa(client, brand, batch).status_code == 200
    assert Message.objects.filter(channel="whatsapp").count() == 2


def test_whatsapp_lone_surrogate_escape(client, brand, wa_account):  # noqa: F811
    body = json.dumps(wa_payload([wa_text("wamid.SUR", "caf\ud800e")])).encode()
    assert b"\\ud800" in body  # JSON carries it as an escape, as Meta would
    response = post_wa(client, brand, body)
    assert response.status_code == 200, response.content
    assert Message.objects.get(external_id="wamid.SUR").text == "caf\ufffde"


def test_messenger_text(client, brand, fb_account):  # noqa: F811
    response = post_fb(
        client, brand, fb_payload(fb_event(message={"mid": "m_NUL", "text": "a\x00b"}))
    )
    assert response.status_code == 200, response.content
    assert Message.objects.get(external_id="m_NUL").text == "ab"


# Phone


def test_phone_transcript_and_caller_name(client, brand, line):  # noqa: F811
    post_generic(client, brand, event("queued", T0, caller_name="Lé\x00a"))
    transcript = event("transcript", T0 + timedelta(seconds=60), transcript="Rappelez\x00-moi")
    response = post_generic(client, brand, transcript)
    assert response.status_code == 200, response.content
    assert Message.objects.get(channel="phone", author_kind="customer").text == "Rappelez-moi"


def test_twilio_fields_are_cleaned_after_the_signature_check(client, brand, line):  # noqa: F811
    params = twilio_params(
        "completed", TranscriptionSid="TR1", TranscriptionText="Rappel\x00ez-moi"
    )
    response = post_twilio(client, brand, params)
    assert response.status_code == 200, response.content
    assert Message.objects.get(channel="phone", author_kind="customer").text == "Rappelez-moi"


# E-mail: HTTP, SMTP, IMAP (the IMAP poll hands each raw mail to ``receive_mail``)


@pytest.fixture
def mailbox(brand):
    return Mailbox.objects.create(brand=brand, address=SUPPORT)


def test_mail_posted_over_http(client, brand, mailbox):
    key = ApiToken.issue(make_agent(brand, Role.ADMIN, "Ada"), "mail")[1]
    response = client.post(
        "/api/inbound/email",
        raw_mail("http.1@client.example"),
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.content
    assert_clean_mail("http.1@client.example")


def test_mail_fetched_over_imap(brand, mailbox):
    outcome = receive_mail(
        raw_mail("imap.1@client.example"), recipients=[SUPPORT], brand=brand, source="imap"
    )
    assert outcome.as_json()
    assert_clean_mail("imap.1@client.example")


@pytest.mark.django_db(transaction=True)
def test_mail_received_over_smtp(brand, mailbox):
    port = free_port()
    controller = smtp_controller("127.0.0.1", port)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            refused = smtp.sendmail("lea@client.example", [SUPPORT], raw_mail("smtp.1@x.example"))
        assert refused == {}
    finally:
        controller.stop()
    assert_clean_mail("smtp.1@x.example")


def test_quarantined_mail_headers(brand, mailbox):
    raw = (f"To: {SUPPORT}\r\nSubject: Sans\x00 exp\r\n\r\n").encode()
    receive_mail(raw, recipients=[SUPPORT], brand=brand, source="smtp", envelope_sender="x\x00@y")
    quarantined = QuarantinedMail.objects.get()
    assert quarantined.header_subject == "Sans exp"
    assert quarantined.envelope_sender == "x@y"


# Console and REST API (the API's other fields: tests/test_api_input.py)


def test_console_reply_note_and_identity(agent_client, brand):
    conversation = ingest_chat(brand, "Bonjour", visitor_id="d" * 32).conversation
    url = reverse("console:compose", args=[conversation.pk])
    assert agent_client.post(url, {"text": "a\x00b", "mode": "reply"}).status_code == 302
    assert agent_client.post(url, {"text": "c\x00d", "mode": "note"}).status_code == 302
    assert set(Message.objects.filter(direction="out").values_list("text", flat=True)) == {
        "ab",
        "cd",
    }
    url = reverse("console:identity_add", args=[conversation.customer_id])
    agent_client.post(url, {"kind": "email", "value": "lea\x00@client.example"})
    assert Identity.objects.filter(kind="email", value="lea@client.example").exists()
    assert agent_client.get(reverse("console:inbox"), {"view": "all\x00"}).status_code == 200


def test_api_note(client, agent, brand):
    conversation = ingest_chat(brand, "Bonjour", visitor_id="e" * 32).conversation
    key = ApiToken.issue(agent, "t")[1]
    response = client.post(
        f"/api/conversations/{conversation.pk}/messages",
        json.dumps({"text": "a\x00b", "internal_note": True}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.content
    assert Message.objects.get(pk=response.json()["id"]).text == "ab"
