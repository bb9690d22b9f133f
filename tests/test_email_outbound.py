"""Agent replies leaving by SMTP, against a real aiosmtpd server in the test process."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from comptoir.conversations.actions import (
    add_note,
    resolve_conversation,
    send_automatic_message,
    send_reply,
)
from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Attachment, Channel, Conversation, Message
from comptoir.conversations.state import ConversationStateError
from comptoir.customers.models import Identity
from comptoir.events.models import Event
from comptoir.outbox.actions import start_delivery
from comptoir.outbox.models import Delivery, DeliveryStatus
from comptoir.outbox.senders import DeliveryError
from comptoir.settings import parse_email_url
from comptoir.tasks import run_pending
from comptoir.touchpoints.email.models import Mailbox
from comptoir.touchpoints.email.outbound import send_email_delivery
from comptoir.touchpoints.email.receiving import receive_mail
from tests.factories import ingest_chat
from tests.smtp_server import SmtpServer
from tests.task_helpers import make_jobs_due, queued_task_names

CUSTOMER = "paul.martin@client.example"
RETRY_TASK = "comptoir.outbox.actions.send_when_due"


def point_at(settings, port: int) -> None:
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    point_at(settings, server.port)
    yield server
    server.stop()


@pytest.fixture
def mailbox(brand):
    return Mailbox.objects.create(
        brand=brand, address="support@maison.example", sender_name="Maison Support"
    )


def customer_mail(
    brand, message_id: str, text: str, address: str = CUSTOMER, received_at=None
) -> Message:
    return ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.EMAIL,
            external_id=message_id,
            text=text,
            identities=[IdentityClaim("email", address, verified=True)],
            display_name="Paul Martin",
            received_at=received_at,
        )
    ).message


def test_agent_reply_leaves_with_threading_headers_parts_and_attachment(
    brand, mailbox, agent, smtp
):
    first = customer_mail(brand, "first.1@client.example", "Colis en retard\nIl n'est pas là.")
    second = customer_mail(brand, "second.2@client.example", "Toujours rien ?")
    conversation = first.conversation
    assert second.conversation_id == conversation.pk

    reply = send_reply(agent, conversation, "Bonjour Paul,\nVotre colis <arrive> demain & bien.")
    Attachment(
        brand=brand, message=reply, filename="étiquette.pdf", content_type="application/pdf", size=9
    ).file.save("upload", ContentFile(b"%PDF-1.4\n"), save=True)
    assert run_pending() == 1

    assert len(smtp.received) == 1
    envelope = smtp.received[0]
    assert envelope.mail_from == "support@maison.example"
    assert envelope.rcpt_tos == [CUSTOMER]
    mail = envelope.message
    reply.refresh_from_db()
    assert reply.external_id.startswith(f"comptoir.m{reply.pk}.")
    assert reply.external_id.endswith("@maison.example")
    assert mail["Message-ID"] == f"<{reply.external_id}>"
    assert mail["From"] == "Maison Support <support@maison.example>"
    assert mail["To"] == CUSTOMER
    assert mail["Subject"] == f"Re: Colis en retard [#{conversation.pk}]"
    assert mail["In-Reply-To"] == "<second.2@client.example>"
    assert mail["References"].split() == ["<first.1@client.example>", "<second.2@client.example>"]
    assert mail["Content-Language"] == "fr"
    assert mail["Date"]
    assert mail["Auto-Submitted"] is None

    assert mail.get_content_type() == "multipart/mixed"
    alternative = next(mail.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Votre colis <arrive> demain & bien." in text
    assert "Votre colis &lt;arrive&gt; demain &amp; bien." in html
    assert "<arrive>" not in html
    attachments = list(mail.iter_attachments())
    assert [(a.get_filename(), a.get_content_type()) for a in attachments] == [
        ("étiquette.pdf", "application/pdf")
    ]
    assert attachments[0].get_content() == b"%PDF-1.4\n"

    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1
    assert delivery.provider_id == reply.external_id
    event = Event.objects.filter(kind="delivery.updated", conversation=conversation).get()
    assert event.payload["status"] == "sent"
    assert event.payload["message_id"] == reply.pk


def test_acknowledgement_is_marked_auto_submitted(brand, mailbox, smtp):
    conversation = customer_mail(brand, "ask.1@client.example", "Bonjour").conversation
    send_automatic_message(conversation, "Nous avons bien reçu votre message.", channel="email")
    run_pending()
    mail = smtp.received[0].message
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["In-Reply-To"] == "<ask.1@client.example>"


def test_a_mail_dated_in_the_future_is_still_the_one_replied_to(brand, mailbox, agent, smtp):
    """Inbound messages carry their Date header: a skewed clock must not break threading."""
    later = timezone.now() + timedelta(hours=3)
    inbound = customer_mail(brand, "skew.1@client.example", "Bonjour", received_at=later)
    send_reply(agent, inbound.conversation, "Réponse")
    run_pending()
    assert smtp.received[0].message["In-Reply-To"] == "<skew.1@client.example>"


def test_smtp_outage_delays_the_reply_then_sends_it_with_the_same_message_id(
    brand, mailbox, agent, settings
):
    down = SmtpServer()  # nothing listens on its port yet
    point_at(settings, down.port)
    conversation = customer_mail(brand, "a.1@client.example", "Bonjour").conversation
    reply = send_reply(agent, conversation, "Réponse")

    before = timezone.now()
    assert run_pending() == 1
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.next_attempt_at >= before + timedelta(
        seconds=settings.OUTBOX_RETRY_BASE_SECONDS
    )
    assert "unreachable" in delivery.last_error
    reply.refresh_from_db()
    stored_id = reply.external_id
    assert stored_id  # stored before the first SMTP attempt

    down.start()
    try:
        assert run_pending() == 0  # not due yet: backoff
        assert queued_task_names() == [RETRY_TASK]
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        make_jobs_due()
        assert run_pending() == 1
    finally:
        down.stop()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 2
    assert [r.message["Message-ID"] for r in down.received] == [f"<{stored_id}>"]
    statuses = Event.objects.filter(kind="delivery.updated").order_by("pk")
    assert [(e.payload["status"], e.payload["attempts"]) for e in statuses] == [
        ("pending", 1),
        ("sent", 2),
    ]


def test_recipient_refused_with_550_fails_for_good(brand, mailbox, agent, smtp):
    smtp.handler.refuse[CUSTOMER] = "550 5.1.1 <paul.martin@client.example>: no such user"
    conversation = customer_mail(brand, "a.1@client.example", "Bonjour").conversation
    reply = send_reply(agent, conversation, "Réponse")
    run_pending()
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert "550" in delivery.last_error
    assert smtp.received == []


def test_recipient_deferred_with_450_is_retried(brand, mailbox, agent, smtp):
    smtp.handler.refuse[CUSTOMER] = "450 4.2.1 mailbox busy, try later"
    conversation = customer_mail(brand, "a.1@client.example", "Bonjour").conversation
    reply = send_reply(agent, conversation, "Réponse")
    run_pending()
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == DeliveryStatus.PENDING
    assert "450" in delivery.last_error


def test_a_retry_after_a_crash_sends_the_same_mail_again(brand, mailbox, agent, smtp):
    """The worker died after the SMTP server took the mail: the resend is the same mail."""
    conversation = customer_mail(brand, "a.1@client.example", "Bonjour").conversation
    reply = send_reply(agent, conversation, "Réponse")
    # What the worker's job did before it died: the delivery made, the mail sent,
    # the outcome never recorded.
    delivery = start_delivery(reply.pk)
    first_id = send_email_delivery(delivery)
    customer_mail(brand, "a.2@client.example", "Vous êtes là ?")  # arrives meanwhile

    assert run_pending() == 1  # the dead worker's job, run again
    first, second = smtp.received
    assert first.message["Message-ID"] == second.message["Message-ID"] == f"<{first_id}>"
    for header in ("Date", "In-Reply-To", "References", "Subject"):
        assert first.message[header] == second.message[header]
    assert first.message["In-Reply-To"] == "<a.1@client.example>"
    delivery.refresh_from_db()
    assert delivery.provider_id == first_id


def test_web_chat_replies_create_no_delivery(brand, agent, smtp):
    conversation = ingest_chat(brand, "Bonjour").conversation
    send_reply(agent, conversation, "Bonjour !")
    assert run_pending() == 0  # no delivery job queued
    assert not Delivery.objects.exists()
    assert smtp.received == []


def test_an_internal_note_is_never_sent(brand, mailbox, agent, smtp):
    conversation = customer_mail(brand, "a.1@client.example", "Bonjour").conversation
    note = add_note(agent, conversation, "Client difficile, voir avec Julien")
    assert run_pending() == 0  # no delivery job queued
    assert not Delivery.objects.exists()
    # Even a delivery forged for a note is refused by the sender.
    forged = Delivery(brand=brand, message=note, channel="email", next_attempt_at=timezone.now())
    with pytest.raises(DeliveryError) as refused:
        send_email_delivery(forged)
    assert refused.value.permanent
    assert smtp.received == []


def test_failing_address_fails_the_delivery_with_the_reason(brand, mailbox, agent, smtp):
    conversation = customer_mail(brand, "a.1@client.example", "Bonjour").conversation
    Identity.objects.filter(value=CUSTOMER).update(
        failing_since=timezone.now(), failure_reason="550 mailbox unavailable"
    )
    reply = send_reply(agent, conversation, "Réponse")
    run_pending()
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == DeliveryStatus.FAILED
    assert CUSTOMER in delivery.last_error
    assert "550 mailbox unavailable" in delivery.last_error
    assert smtp.received == []


def test_the_working_address_is_preferred_to_a_failing_one(brand, mailbox, agent, smtp):
    conversation = customer_mail(brand, "a.1@client.example", "Bonjour").conversation
    customer_mail(brand, "a.2@client.example", "Autre adresse", address="paul@ailleurs.example")
    Identity.objects.filter(value="paul@ailleurs.example").update(failing_since=timezone.now())
    send_reply(agent, conversation, "Réponse")
    run_pending()
    assert smtp.received[0].rcpt_tos == [CUSTOMER]


def test_a_customer_without_address_fails_the_delivery(brand, agent, smtp):
    conversation = customer_mail(brand, "a.1@client.example", "Bonjour").conversation
    Identity.objects.filter(customer=conversation.customer).delete()
    reply = send_reply(agent, conversation, "Réponse")
    run_pending()
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == DeliveryStatus.FAILED
    assert "no e-mail address" in delivery.last_error


def test_a_brand_without_mailbox_sends_from_the_default_domain(brand, agent, smtp, settings):
    settings.DEFAULT_FROM_DOMAIN = "help.example"
    conversation = customer_mail(brand, "a.1@client.example", "Bonjour").conversation
    send_reply(agent, conversation, "Réponse")
    run_pending()
    mail = smtp.received[0].message
    assert mail["From"].addresses[0].addr_spec == f"{brand.slug}@help.example"
    assert mail["Message-ID"].endswith("@help.example>")


def test_email_url_is_parsed_into_django_settings():
    assert parse_email_url("smtp+starttls://agent%40maison.example:p%2Fss@mail.example:2525") == {
        "EMAIL_HOST": "mail.example",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "agent@maison.example",
        "EMAIL_HOST_PASSWORD": "p/ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }
    assert parse_email_url("smtps://relay.example")["EMAIL_PORT"] == 465
    assert parse_email_url("smtp://127.0.0.1")["EMAIL_PORT"] == 25
    with pytest.raises(ValueError, match="scheme"):
        parse_email_url("http://mail.example")


def test_a_file_email_url_writes_each_mail_into_a_directory(
    brand, mailbox, agent, settings, tmp_path
):
    """What ``make demo`` uses: replies visible as files, no SMTP server needed."""
    settings.EMAIL_FILE_PATH = parse_email_url(f"file:{tmp_path}/sent")["EMAIL_FILE_PATH"]
    conversation = customer_mail(brand, "file.1@client.example", "Bonjour").conversation
    reply = send_reply(agent, conversation, "Votre colis part demain.")
    assert run_pending() == 1
    assert Delivery.objects.get(message=reply).status == DeliveryStatus.SENT
    [written] = (tmp_path / "sent").iterdir()
    content = written.read_text()
    assert "Votre colis part demain." in content
    assert "In-Reply-To: <file.1@client.example>" in content


def test_the_customers_answer_to_a_reply_threads_back_by_its_message_id(
    brand, mailbox, agent, smtp
):
    """What the sender stores as the Message-ID is what inbound threading looks up."""
    first = receive_mail(
        b"From: Paul <paul.martin@client.example>\r\nTo: support@maison.example\r\n"
        b"Subject: Colis\r\nMessage-ID: <q.1@client.example>\r\n\r\nBonjour\r\n",
        recipients=None,
        brand=None,
        source="http",
    )
    conversation = Conversation.objects.get(pk=first.conversation_id)
    send_reply(agent, conversation, "Réponse")
    run_pending()
    sent = smtp.received[-1].message
    assert sent["To"] == CUSTOMER
    # Resolved, and the answer's subject has no [#id]: only the headers can thread it.
    resolve_conversation(agent, conversation)

    answer = receive_mail(
        f"From: Paul <{CUSTOMER}>\r\nTo: support@maison.example\r\n"
        f"Subject: Sans rapport\r\nMessage-ID: <q.2@client.example>\r\n"
        f"In-Reply-To: {sent['Message-ID']}\r\nReferences: {sent['References']} "
        f"{sent['Message-ID']}\r\n\r\nMerci\r\n".encode(),
        recipients=None,
        brand=None,
        source="http",
    )
    assert answer.kind == "ingested"
    assert answer.conversation_id == conversation.pk
    conversation.refresh_from_db()
    assert conversation.status == "open"  # reopened by the answer


def phone_transcript(brand, identities) -> Conversation:
    return ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.PHONE,
            external_id="call-transcript-1",
            text="Pouvez-vous me rappeler ?",
            identities=identities,
        )
    ).message.conversation


def test_a_conversation_opened_by_a_call_is_answered_by_e_mail(brand, mailbox, agent, smtp):
    conversation = phone_transcript(
        brand,
        [IdentityClaim("phone", "+33612345678"), IdentityClaim("email", CUSTOMER, verified=True)],
    )
    reply = send_reply(agent, conversation, "Nous vous rappelons demain matin.")
    assert reply.channel == Channel.EMAIL
    assert run_pending() == 1
    assert smtp.received[0].rcpt_tos == [CUSTOMER]


@pytest.mark.parametrize(
    "claims",
    [
        [IdentityClaim("phone", "+33612345678")],
        # An address typed in the chat may be anyone's: never written to on a call's behalf.
        [IdentityClaim("phone", "+33612345678"), IdentityClaim("email", CUSTOMER)],
    ],
)
def test_a_caller_without_a_proven_address_cannot_get_a_written_reply(
    brand, mailbox, agent, claims
):
    conversation = phone_transcript(brand, claims)
    with pytest.raises(ConversationStateError, match="call them back"):
        send_reply(agent, conversation, "Nous vous rappelons demain matin.")
    assert not Message.objects.filter(direction="out").exists()
    note = add_note(agent, conversation, "Rappel prévu demain 9 h.")  # notes always work
    assert note.channel == Channel.PHONE and not Delivery.objects.exists()
