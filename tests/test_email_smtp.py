"""The SMTP listener, spoken to with smtplib over a real socket (aiosmtpd on a free port).

The listener stores mail from another thread, so these tests use committed
transactions (``transaction=True``) like a running server would.
"""

import logging
import smtplib

import pytest
from django.db import OperationalError

from comptoir.conversations.models import Conversation, Message
from comptoir.touchpoints.email import smtp_server
from comptoir.touchpoints.email.models import Mailbox, QuarantinedMail
from comptoir.touchpoints.email.smtp_server import parse_host_port, smtp_controller
from tests.live_server import free_port
from tests.test_email_inbound import CORPUS, SUPPORT, mail, refusal_records, senderless

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mailbox(brand):
    return Mailbox.objects.create(brand=brand, address=SUPPORT)


@pytest.fixture
def listener(settings, mailbox):
    settings.EMAIL_MAX_MESSAGE_BYTES = 200_000
    port = free_port()
    controller = smtp_controller("127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()


def connect(port: int) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", port, timeout=10)
    client.ehlo("test.example")
    return client


def send(port: int, raw: bytes, recipients: list[str]) -> tuple[int, bytes]:
    """MAIL, RCPT…, DATA by hand, to read the exact reply to DATA."""
    with connect(port) as client:
        client.mail("ana@example.com")
        for recipient in recipients:
            code, reply = client.rcpt(recipient)
            assert code == 250, (recipient, code, reply)
        # smtplib sends bytes as they are; on the wire SMTP lines end in CRLF.
        return client.data(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def test_mail_to_a_mailbox_is_stored_before_250(listener, brand):
    code, reply = send(
        listener, mail("Bonjour par SMTP", message_id="smtp.1@example.com"), [SUPPORT]
    )
    assert code == 250 and b"accepted" in reply
    # 250 came after commit: the message is readable right away.
    message = Message.objects.get(external_id="smtp.1@example.com")
    assert message.text.startswith("Bonjour par SMTP")
    assert message.conversation.brand == brand


def test_unknown_recipient_is_refused_at_rcpt_with_550(listener):
    with connect(listener) as client:
        client.mail("ana@example.com")
        code, reply = client.rcpt("nobody@maison.example")
        assert code == 550 and reply.startswith(b"5.1.1")
        assert client.rcpt(SUPPORT.upper())[0] == 250
        code, _ = client.data(mail(message_id="mixed.1@example.com"))
        assert code == 250
    assert Message.objects.filter(external_id="mixed.1@example.com").count() == 1


def test_sendmail_to_only_unknown_recipients_raises(listener):
    with connect(listener) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail("ana@example.com", ["ghost@maison.example"], mail())
    assert refused.value.recipients["ghost@maison.example"][0] == 550
    assert not Message.objects.exists()


def test_oversized_message_gets_552(listener):
    code, _ = send(listener, mail(("x" * 70 + "\n") * 4000), [SUPPORT])
    assert code == 552
    assert not Message.objects.exists() and not QuarantinedMail.objects.exists()


def test_unparseable_mail_is_accepted_and_says_it_is_quarantined(listener, brand):
    raw = (CORPUS / "headers_only_unreadable.eml").read_bytes()
    code, reply = send(listener, raw, [SUPPORT])
    assert code == 250 and b"quarantine" in reply
    kept = QuarantinedMail.objects.get()
    assert kept.brand == brand and kept.source == "smtp"
    assert kept.envelope_sender == "ana@example.com" and kept.envelope_recipients == [SUPPORT]


def test_senderless_mail_is_quarantined_in_one_warning_without_traceback(listener, brand, caplog):
    caplog.set_level(logging.DEBUG)
    raw = senderless("From: root@localhost\r\n")
    code, reply = send(listener, raw, [SUPPORT])
    assert code == 250 and b"quarantine" in reply
    kept = QuarantinedMail.objects.get()
    assert kept.brand == brand and kept.reason.startswith("no usable sender address (From)")
    loud, tracebacks = refusal_records(caplog)
    assert loud == [
        (logging.WARNING, f"mail quarantined (brand {brand.slug}, smtp): {kept.reason}")
    ]
    assert tracebacks == []


def test_duplicate_and_auto_reply_are_accepted_without_new_conversations(listener):
    raw = mail(message_id="twice.1@example.com")
    assert send(listener, raw, [SUPPORT])[0] == 250
    assert send(listener, raw, [SUPPORT])[0] == 250
    ooo = (CORPUS / "out_of_office.eml").read_bytes()
    assert send(listener, ooo, [SUPPORT])[0] == 250
    assert Conversation.objects.count() == 1


def test_database_outage_answers_451_so_the_sender_retries(listener, monkeypatch):
    def outage(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(smtp_server, "receive_mail", outage)
    code, reply = send(listener, mail(), [SUPPORT])
    assert code == 451 and reply.startswith(b"4.3.0")


def test_mail_to_two_brands_reaches_both(listener, other_brand):
    Mailbox.objects.create(brand=other_brand, address="contact@rival.example")
    code, _ = send(
        listener, mail(to=f"{SUPPORT}, contact@rival.example"), [SUPPORT, "contact@rival.example"]
    )
    assert code == 250
    assert sorted(Conversation.objects.values_list("brand__slug", flat=True)) == sorted(
        [Mailbox.objects.get(address=SUPPORT).brand.slug, other_brand.slug]
    )


def test_host_port_option_is_parsed():
    assert parse_host_port("127.0.0.1:2525") == ("127.0.0.1", 2525)
    assert parse_host_port("[::1]:25") == ("::1", 25)
    assert parse_host_port("0.0.0.0") == ("0.0.0.0", 2525)  # noqa: S104
