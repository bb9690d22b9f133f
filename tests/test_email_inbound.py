"""Inbound e-mail: routing, threading, loops, bounces, acknowledgement, quarantine, HTTP endpoint.

Everything goes through ``receive_mail``, the path the SMTP listener, the HTTP
endpoint, ``import-mail`` and IMAP polling share.
"""

import logging
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from comptoir.conversations.actions import resolve_conversation, send_reply
from comptoir.conversations.models import AuthorKind, Channel, Conversation, Message, Status
from comptoir.customers.models import Customer, Identity, IdentityKind
from comptoir.events.models import Event
from comptoir.outbox.models import DeliveryStatus
from comptoir.tasks import run_pending
from comptoir.tenancy.models import ApiToken, Role
from comptoir.touchpoints.email import receiving
from comptoir.touchpoints.email.message_ids import new_message_id, normalise_message_id
from comptoir.touchpoints.email.models import Mailbox, QuarantinedMail
from comptoir.touchpoints.email.receiving import OutcomeKind, receive_mail, retry_quarantined
from tests.factories import make_agent
from tests.sla_helpers import office_calendar, paris
from tests.task_helpers import make_jobs_due, queued_task_names

CORPUS = Path(__file__).parent / "fixtures" / "mail"
SUPPORT = "support@maison.example"
ACKNOWLEDGE_TASK = "comptoir.touchpoints.email.listeners.acknowledge_new_conversation"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def mail(
    text: str = "Bonjour, ma commande n'est pas arrivée.",
    *,
    sender: str = "ana@example.com",
    to: str = SUPPORT,
    subject: str = "Ma commande",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    language: str = "",
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Ana Lima <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = f"<{message_id or new_message_id('example.com')}>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)  # drops Content-* headers: set them after
    if language:
        message["Content-Language"] = language
    return message.as_bytes()


def receive(raw: bytes, **kwargs):
    kwargs.setdefault("recipients", None)
    kwargs.setdefault("brand", None)
    kwargs.setdefault("source", "smtp")
    return receive_mail(raw, **kwargs)


@pytest.fixture
def mailbox(brand):
    return Mailbox.objects.create(brand=brand, address=SUPPORT, response_time_hours=24)


def acknowledgements(conversation: Conversation) -> list[Message]:
    """The conversation's acknowledgements, once the worker ran the queued ones."""
    run_pending()
    return list(Message.objects.filter(conversation=conversation, author_kind=AuthorKind.SYSTEM))


# --- Message ids -----------------------------------------------------------------------------


def test_message_ids_are_stored_without_brackets_like_parsing_does():
    assert normalise_message_id(" <abc.1@mail.example.com> ") == "abc.1@mail.example.com"
    assert normalise_message_id("abc.1@mail.example.com") == "abc.1@mail.example.com"
    assert normalise_message_id("") == ""
    long_id = "x" * 300 + "@example.com"
    assert normalise_message_id(f"<{long_id}>").startswith("mid-sha256:")
    generated = new_message_id("Maison.Example")
    assert generated.endswith("@maison.example") and normalise_message_id(generated) == generated


# --- Routing ---------------------------------------------------------------------------------


def test_mail_to_a_mailbox_opens_a_conversation_of_its_brand(brand, mailbox):
    outcome = receive(mail(to="Maison <Support@MAISON.example>", subject="Colis abîmé"))
    assert outcome.kind == OutcomeKind.INGESTED
    conversation = Conversation.objects.get(pk=outcome.conversation_id)
    assert conversation.brand == brand
    assert conversation.channel == Channel.EMAIL
    assert conversation.subject == "Colis abîmé"
    assert outcome.conversation_created
    identity = Identity.objects.get(customer=conversation.customer)
    assert (identity.kind, identity.value, identity.verified) == ("email", "ana@example.com", True)
    assert conversation.customer.display_name == "Ana Lima"


def test_envelope_recipients_win_over_headers(brand, other_brand, mailbox):
    Mailbox.objects.create(brand=other_brand, address="contact@rival.example")
    outcome = receive(mail(to=SUPPORT), recipients=["Contact@Rival.example"])
    assert outcome.brand == other_brand
    assert Conversation.objects.get(pk=outcome.conversation_id).brand == other_brand


def test_delivered_to_routes_mail_sent_to_a_list(brand, mailbox):
    raw = mail(to="everyone@lists.example", headers={"Delivered-To": SUPPORT})
    outcome = receive(raw)
    assert outcome.kind == OutcomeKind.INGESTED and outcome.brand == brand


def test_unknown_recipient_is_rejected_and_nothing_is_stored(brand, mailbox):
    outcome = receive(mail(to="nobody@maison.example"))
    assert outcome.kind == OutcomeKind.REJECTED
    assert not Message.objects.exists() and not QuarantinedMail.objects.exists()
    outcome = receive(mail(to=SUPPORT), recipients=["nobody@maison.example"])
    assert outcome.kind == OutcomeKind.REJECTED


def test_given_brand_wins_and_without_mailbox_nothing_is_acknowledged(brand, other_brand):
    outcome = receive(mail(to="whatever@example.net"), brand=other_brand)
    assert outcome.kind == OutcomeKind.INGESTED and outcome.brand == other_brand
    assert not outcome.acknowledged
    assert not acknowledgements(Conversation.objects.get(pk=outcome.conversation_id))


def test_same_message_id_twice_is_a_duplicate_no_op(brand, mailbox):
    raw = mail(message_id="once.1@example.com")
    first = receive(raw)
    second = receive(raw)
    assert (first.kind, second.kind) == (OutcomeKind.INGESTED, OutcomeKind.DUPLICATE)
    assert second.conversation_id == first.conversation_id
    assert second.message.pk == first.message.pk
    assert Message.objects.filter(direction="in").count() == 1
    assert first.acknowledged and not second.acknowledged
    assert queued_task_names().count(ACKNOWLEDGE_TASK) == 1
    assert len(acknowledgements(Conversation.objects.get(pk=first.conversation_id))) == 1


# --- Threading -------------------------------------------------------------------------------


def _resolved_conversation(brand, agent, *, sender="ana@example.com", days_ago: float = 1):
    outcome = receive(mail(sender=sender, message_id=f"first.{sender}"))
    conversation = Conversation.objects.get(pk=outcome.conversation_id)
    resolve_conversation(agent, conversation)
    Conversation.objects.filter(pk=conversation.pk).update(
        resolved_at=timezone.now() - timedelta(days=days_ago)
    )
    conversation.refresh_from_db()
    return conversation


def test_in_reply_to_a_received_mail_reopens_a_recently_resolved_conversation(
    brand, agent, mailbox
):
    conversation = _resolved_conversation(brand, agent)
    outcome = receive(mail("Toujours rien.", in_reply_to="<first.ana@example.com>"))
    assert outcome.conversation_id == conversation.pk
    assert not outcome.conversation_created and not outcome.acknowledged
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN and conversation.resolved_at is None
    assert Event.objects.filter(conversation=conversation, kind="conversation.updated").exists()


def test_references_to_a_mail_comptoir_sent_thread_the_reply(brand, agent, mailbox):
    conversation = _resolved_conversation(brand, agent)
    resolved_at = conversation.resolved_at
    Conversation.objects.filter(pk=conversation.pk).update(status=Status.OPEN, resolved_at=None)
    reply = send_reply(agent, conversation, "Votre colis part demain.")
    # What the outbound sender stores: the normalised Message-ID it wrote.
    Message.objects.filter(pk=reply.pk).update(
        external_id=normalise_message_id("<out.42@maison.example>")
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Status.RESOLVED, resolved_at=resolved_at
    )
    raw = mail(
        "Merci !",
        subject="Re: quelque chose",
        references="<unknown.1@example.com> <out.42@maison.example>",
    )
    outcome = receive(raw)
    assert outcome.conversation_id == conversation.pk
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN


def test_header_threading_picks_the_named_open_conversation_over_the_latest(brand, agent, mailbox):
    first = receive(mail(message_id="older.1@example.com"))
    older = Conversation.objects.get(pk=first.conversation_id)
    newer = Conversation.objects.create(
        brand=brand,
        customer=older.customer,
        channel=Channel.WEBCHAT,
        created_at=timezone.now(),
        last_message_at=timezone.now() + timedelta(minutes=1),
    )
    unhinted = receive(mail("Autre chose"))
    assert unhinted.conversation_id == newer.pk
    hinted = receive(mail("À propos du premier", in_reply_to="<older.1@example.com>"))
    assert hinted.conversation_id == older.pk


def test_subject_reference_threads_into_the_senders_conversation(brand, agent, mailbox):
    conversation = _resolved_conversation(brand, agent)
    outcome = receive(mail("Re-bonjour", subject=f"Re: Ma commande [#{conversation.pk}]"))
    assert outcome.conversation_id == conversation.pk
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN


def test_forged_reference_cannot_post_into_someone_elses_conversation(brand, agent, mailbox):
    victim = _resolved_conversation(brand, agent, sender="victim@example.com")
    count = Message.objects.filter(conversation=victim).count()
    by_token = receive(
        mail("Donnez-moi ses infos", sender="eve@evil.example", subject=f"Re: [#{victim.pk}]")
    )
    by_header = receive(
        mail(
            "Encore moi",
            sender="eve@evil.example",
            subject="Re: hello",
            in_reply_to="<first.victim@example.com>",
        )
    )
    for outcome in (by_token, by_header):
        assert outcome.kind == OutcomeKind.INGESTED
        assert outcome.conversation_id != victim.pk
    eve_conversation = Conversation.objects.get(pk=by_token.conversation_id)
    assert eve_conversation.customer != victim.customer
    assert eve_conversation.follows is None
    victim.refresh_from_db()
    assert victim.status == Status.RESOLVED
    assert Message.objects.filter(conversation=victim).count() == count


def test_known_customer_forging_a_reference_stays_in_their_own_thread(brand, agent, mailbox):
    victim = _resolved_conversation(brand, agent, sender="victim@example.com")
    own = receive(mail("Ma question", sender="eve@evil.example"))
    forged = receive(mail("Et ça ?", sender="eve@evil.example", subject=f"Re: [#{victim.pk}]"))
    assert forged.conversation_id == own.conversation_id


def test_absurd_subject_reference_is_ignored(brand, mailbox):
    first = receive(mail("Bonjour"))
    outcome = receive(mail("Encore", subject="Re: [#999999999999999999]"))
    assert outcome.kind == OutcomeKind.INGESTED
    assert outcome.conversation_id == first.conversation_id


def test_reference_to_another_brands_conversation_is_ignored(brand, other_brand, agent, mailbox):
    Mailbox.objects.create(brand=other_brand, address="contact@rival.example")
    rival = receive(mail(to="contact@rival.example"))
    outcome = receive(mail("Bonjour", subject=f"Re: [#{rival.conversation_id}]"))
    assert outcome.brand == brand
    assert outcome.conversation_id != rival.conversation_id
    assert Conversation.objects.get(pk=outcome.conversation_id).brand == brand


def test_late_reply_starts_a_new_conversation_that_follows_the_old_one(brand, agent, mailbox):
    mailbox.reopen_window_days = 7
    mailbox.save()
    old = _resolved_conversation(brand, agent, days_ago=8)
    outcome = receive(mail("Le problème revient", in_reply_to="<first.ana@example.com>"))
    assert outcome.conversation_created
    new = Conversation.objects.get(pk=outcome.conversation_id)
    assert new.follows == old and new.customer == old.customer
    old.refresh_from_db()
    assert old.status == Status.RESOLVED
    # A new conversation: acknowledged, with its own reference.
    assert f"[#{new.pk}]" in acknowledgements(new)[0].text


# --- Acknowledgement -------------------------------------------------------------------------


def test_new_conversation_is_acknowledged_once_in_english(brand, mailbox):
    first = receive(mail(language="en-GB"))
    conversation = Conversation.objects.get(pk=first.conversation_id)
    assert first.acknowledged
    assert queued_task_names().count(ACKNOWLEDGE_TASK) == 1  # sent by the worker
    (ack,) = acknowledgements(conversation)
    assert ack.channel == Channel.EMAIL and ack.direction == "out"
    assert f"[#{conversation.pk}]" in ack.text
    assert "1\xa0day" in ack.text and "received your message" in ack.text
    assert conversation.first_response_at is None  # not a person's response
    second = receive(mail("Et aussi…"))
    assert second.conversation_id == conversation.pk and not second.acknowledged
    assert ACKNOWLEDGE_TASK not in queued_task_names()
    assert len(acknowledgements(conversation)) == 1


def test_acknowledgement_speaks_french_to_a_french_customer(brand, mailbox):
    mailbox.response_time_hours = 48
    mailbox.save()
    customer = Customer.objects.create(brand=brand, language="fr")
    Identity.objects.create(
        brand=brand, customer=customer, kind=IdentityKind.EMAIL, value="ana@example.com"
    )
    outcome = receive(mail())
    (ack,) = acknowledgements(Conversation.objects.get(pk=outcome.conversation_id))
    assert "2\xa0jours" in ack.text
    assert "2\xa0days" not in ack.text


def test_acknowledgement_promises_what_the_team_did_lately_in_business_hours(brand, mailbox):
    """Five e-mails answered after 1, 2, 3, 4 and 5 business hours: the median is 3 hours,
    added to a Friday 16:00 in office hours (9:00-18:00), it is Monday 10:00."""
    office_calendar(brand)
    asked = paris(2031, 6, 2, 9)  # Monday
    for hours in (1, 2, 3, 4, 5):
        old = Conversation.objects.create(
            brand=brand,
            customer=Customer.objects.create(brand=brand),
            channel=Channel.EMAIL,
            created_at=asked,
            last_message_at=asked,
            first_response_at=asked + timedelta(hours=hours),
        )
        assert old.first_response_at
    with time_machine.travel(paris(2031, 6, 6, 16), tick=False):  # Friday 16:00
        outcome = receive(mail(language="en-GB"))
        make_jobs_due()  # the database's clock is not the travelled one
        (ack,) = acknowledgements(Conversation.objects.get(pk=outcome.conversation_id))
    assert "We expect to answer by June 9, 2031 at 10 a.m." in ack.text
    assert "within" not in ack.text


def test_no_acknowledgement_when_the_mailbox_does_not_want_one(brand, mailbox):
    mailbox.acknowledge = False
    mailbox.save()
    outcome = receive(mail())
    assert outcome.kind == OutcomeKind.INGESTED and not outcome.acknowledged
    assert not acknowledgements(Conversation.objects.get(pk=outcome.conversation_id))


# --- Loops and bounces -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["out_of_office.eml", "precedence_bulk.eml"])
def test_auto_replies_open_nothing_and_get_no_acknowledgement(brand, mailbox, name):
    outcome = receive(corpus(name))
    assert outcome.kind == OutcomeKind.IGNORED
    assert outcome.reason.startswith("auto-reply")
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()


def test_auto_reply_to_a_resolved_conversation_does_not_reopen_it(brand, agent, mailbox):
    conversation = _resolved_conversation(brand, agent)
    raw = mail(
        "Absent until Monday",
        subject=f"Automatic reply: [#{conversation.pk}]",
        in_reply_to="<first.ana@example.com>",
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert receive(raw).kind == OutcomeKind.IGNORED
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED


GHOST = "ghost@customer.example"  # the failed recipient of dsn_bounce.eml
FIXTURE_SENT_ID = "reply-1234@maison.example"  # the returned Message-ID in dsn_bounce.eml


@pytest.fixture
def sent_mail_dir(settings, tmp_path):
    """Outbound mail really leaves, through the file backend (``EMAIL_URL=file:DIR``)."""
    settings.EMAIL_FILE_PATH = str(tmp_path)
    return tmp_path


def sent_reply(agent, sender: str) -> Message:
    """``sender`` writes in and the agent's reply is delivered: it has a real sent Message-ID."""
    outcome = receive(mail(sender=sender, subject="Livraison"))
    conversation = Conversation.objects.get(pk=outcome.conversation_id)
    reply = send_reply(agent, conversation, "Nous regardons votre commande.")
    run_pending()
    reply.refresh_from_db()
    assert reply.delivery.status == DeliveryStatus.SENT and reply.external_id
    return reply


def dsn_for(message_id: str, *, failed: str = GHOST) -> bytes:
    """dsn_bounce.eml returning the mail ``message_id`` (sent to ``failed``)."""
    raw = corpus("dsn_bounce.eml").decode()
    raw = raw.replace(FIXTURE_SENT_ID, message_id).replace("Ghost@Customer.example", failed)
    return raw.replace("ghost@customer.example", failed).encode()


def failing(address: str) -> bool:
    return Identity.objects.filter(value=address, failing_since__isnull=False).exists()


def test_bounce_of_a_sent_mail_marks_its_recipient_failing_and_shows_nothing(
    brand, agent, mailbox, sent_mail_dir
):
    reply = sent_reply(agent, GHOST)
    identity = Identity.objects.get(value=GHOST)
    outcome = receive(dsn_for(reply.external_id))
    assert outcome.kind == OutcomeKind.BOUNCE
    assert outcome.failed_recipients == [GHOST]
    identity.refresh_from_db()
    assert identity.failing_since is not None
    assert "bounced" in identity.failure_reason
    assert Conversation.objects.count() == 1  # the bounce opened nothing
    event = Event.objects.get(kind="customer.identity_failing")
    assert event.customer_payload is None and event.customer == identity.customer
    # A second bounce keeps the date of the first failure.
    first_failure = identity.failing_since
    receive(dsn_for(reply.external_id))
    identity.refresh_from_db()
    assert identity.failing_since == first_failure


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda mid: {"References": f"<root@example.com> <{mid}>"}, id="references"),
        pytest.param(lambda mid: {"In-Reply-To": f"<{mid}>"}, id="in-reply-to"),
        pytest.param(lambda mid: {"X-Original-Message-ID": f"<{mid}>"}, id="x-original"),
    ],
)
def test_an_x_failed_recipients_bounce_counts_when_it_names_the_sent_mail(
    brand, agent, mailbox, sent_mail_dir, headers
):
    reply = sent_reply(agent, GHOST)
    raw = mail(
        "Delivery failed.",
        sender="mailer-daemon@mx.maison.example",
        subject="Mail delivery failed",
        headers={"X-Failed-Recipients": GHOST, **headers(reply.external_id)},
    )
    outcome = receive(raw)
    assert (outcome.kind, outcome.failed_recipients) == (OutcomeKind.BOUNCE, [GHOST])
    assert failing(GHOST)


def test_a_bounce_quoting_the_sent_mail_in_its_text_counts(brand, agent, mailbox, sent_mail_dir):
    """Exim pastes the returned mail into the text rather than attaching it."""
    reply = sent_reply(agent, GHOST)
    raw = mail(
        "------ This is a copy of the message, including all the headers. ------\n"
        f"From: support@maison.example\nMessage-ID: <{reply.external_id}>\n\nNous regardons.",
        sender="mailer-daemon@mx.maison.example",
        subject="Mail delivery failed",
        headers={"X-Failed-Recipients": GHOST},
    )
    assert receive(raw).failed_recipients == [GHOST]


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda reply: corpus("dsn_bounce.eml"), id="unknown-message-id"),
        pytest.param(
            lambda reply: corpus("dsn_bounce.eml").replace(
                f"Message-ID: <{FIXTURE_SENT_ID}>".encode(), b""
            ),
            id="no-message-id",
        ),
        # The customer's own mail: its Message-ID is known to whoever wrote it.
        pytest.param(
            lambda reply: dsn_for(
                Message.objects.get(conversation=reply.conversation, direction="in").external_id
            ),
            id="a-received-mail",
        ),
        pytest.param(
            lambda reply: mail(
                "failed",
                sender="mailer-daemon@mx.example",
                headers={"X-Failed-Recipients": GHOST},
            ),
            id="x-failed-recipients-alone",
        ),
    ],
)
def test_a_bounce_that_names_no_mail_comptoir_sent_marks_nothing(
    brand, agent, mailbox, sent_mail_dir, forge, caplog
):
    reply = sent_reply(agent, GHOST)
    outcome = receive(forge(reply))
    assert outcome.kind == OutcomeKind.IGNORED
    assert outcome.reason.startswith("unverified bounce: references no")
    assert outcome.failed_recipients == []
    assert not failing(GHOST)
    assert not Event.objects.filter(kind="customer.identity_failing").exists()
    assert Conversation.objects.count() == 1 and Message.objects.count() == 3  # mail, ack, reply
    assert "dropped: references no" in caplog.text


def test_a_bounce_of_a_sent_mail_only_marks_that_mails_recipient(
    brand, agent, mailbox, sent_mail_dir
):
    """Mallory, who got a reply, cannot use its Message-ID to silence Ana's address."""
    victim = sent_reply(agent, "ana@example.com")
    own = sent_reply(agent, "mallory@example.net")
    outcome = receive(dsn_for(own.external_id, failed="ana@example.com"))
    assert outcome.kind == OutcomeKind.IGNORED
    assert outcome.reason == "unverified bounce: names no recipient of the mail it references"
    assert not failing("ana@example.com")
    # Naming both: only the recipient of the returned mail is marked.
    raw = mail(
        "failed",
        sender="mailer-daemon@mx.example",
        headers={
            "X-Failed-Recipients": "ana@example.com, mallory@example.net",
            "References": f"<{own.external_id}>",
        },
    )
    outcome = receive(raw)
    assert (outcome.kind, outcome.failed_recipients) == (
        OutcomeKind.BOUNCE,
        ["mallory@example.net"],
    )
    assert failing("mallory@example.net") and not failing("ana@example.com")
    assert victim.delivery.status == DeliveryStatus.SENT


def test_a_bounce_counts_only_for_mail_its_brand_sent(
    brand, other_brand, agent, mailbox, sent_mail_dir
):
    reply = sent_reply(agent, GHOST)
    rival = Customer.objects.create(brand=other_brand)
    Identity.objects.create(brand=other_brand, customer=rival, kind=IdentityKind.EMAIL, value=GHOST)
    Mailbox.objects.create(brand=other_brand, address="contact@rival.example")
    outcome = receive(dsn_for(reply.external_id), recipients=["contact@rival.example"])
    assert (outcome.brand, outcome.kind) == (other_brand, OutcomeKind.IGNORED)
    assert not failing(GHOST)


# --- Quarantine ------------------------------------------------------------------------------


def test_unparseable_mail_is_quarantined_for_its_brand(brand, mailbox):
    raw = corpus("headers_only_unreadable.eml")
    outcome = receive(raw, envelope_sender="gateway@example.net")
    assert outcome.kind == OutcomeKind.QUARANTINED
    kept = outcome.quarantined
    assert kept.brand == brand
    assert bytes(kept.raw) == raw and kept.size == len(raw)
    assert kept.reason == "unparseable: no sender, subject, text or attachment"
    assert kept.envelope_sender == "gateway@example.net"


def test_unroutable_unparseable_mail_is_kept_without_brand(brand, mailbox):
    outcome = receive(corpus("headerless_binary.eml"))
    assert outcome.kind == OutcomeKind.QUARANTINED
    assert outcome.quarantined.brand is None
    assert "binary" in outcome.quarantined.reason


def test_mail_without_sender_is_quarantined(brand, mailbox):
    outcome = receive(corpus("missing_from.eml"))
    assert outcome.kind == OutcomeKind.QUARANTINED
    assert outcome.reason == "no sender address (From)"
    assert not Conversation.objects.exists()


def senderless(from_header: str) -> bytes:
    return (
        f"{from_header}To: {SUPPORT}\r\nSubject: Rapport\r\n"
        f"Message-ID: <senderless@example.com>\r\n\r\nBonjour\r\n"
    ).encode()


SENDERLESS = [
    pytest.param(corpus("missing_from.eml"), "no sender address (From)", id="no-from"),
    pytest.param(senderless("From: Ana Lima\r\n"), "no sender address (From)", id="a-name"),
    pytest.param(
        senderless("From: root@localhost\r\n"),
        "no usable sender address (From): not an e-mail address: 'root@localhost'",
        id="not-an-address",
    ),
]


def refusal_records(caplog) -> tuple[list[tuple[int, str]], list[logging.LogRecord]]:
    """(level, message) of every record at WARNING or above, and every record with a traceback."""
    loud = [(r.levelno, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]
    return loud, [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize(("raw", "reason"), SENDERLESS)
def test_senderless_mail_is_quarantined_in_one_warning_without_traceback(
    brand, mailbox, caplog, raw, reason
):
    caplog.set_level(logging.DEBUG)
    outcome = receive(raw)
    assert (outcome.kind, outcome.reason) == (OutcomeKind.QUARANTINED, reason)
    assert bytes(QuarantinedMail.objects.get(reason=reason).raw) == raw  # nothing lost
    assert not Conversation.objects.exists()
    loud, tracebacks = refusal_records(caplog)
    assert loud == [(logging.WARNING, f"mail quarantined (brand {brand.slug}, smtp): {reason}")]
    assert tracebacks == []


def test_unexpected_ingest_failure_keeps_its_traceback(brand, mailbox, monkeypatch, caplog):
    def broken(inbound):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(receiving, "ingest_message", broken)
    assert receive(mail()).kind == OutcomeKind.QUARANTINED
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info[0] is RuntimeError


def test_huge_address_headers_are_read_in_linear_time(brand, mailbox):
    """Address-shaped regexes backtrack quadratically on a long run without "@" (ReDoS)."""
    run = "a" * 60_000
    raw = (
        f"From: Ana <ana@example.com>\r\nTo: {SUPPORT}\r\nDelivered-To: {run}\r\n"
        f"X-Original-To: {run}\r\nSubject: Bonjour\r\n"
        f"Message-ID: <huge-header@example.com>\r\n\r\nMa commande ?\r\n"
    ).encode()
    bounce = (
        f"From: MAILER-DAEMON@example.com\r\nTo: {SUPPORT}\r\nX-Failed-Recipients: {run}\r\n"
        f"Subject: Undelivered\r\nMessage-ID: <huge-bounce@example.com>\r\n\r\nFailed.\r\n"
    ).encode()
    sender = (
        f"From: a@{'b' * 60_000}\u00a0x\r\nTo: {SUPPORT}\r\nSubject: Hi\r\n"
        f"Message-ID: <huge-from@example.com>\r\n\r\nBonjour\r\n"
    ).encode()
    started = time.process_time()  # CPU time: a busy machine does not stretch it
    assert receive(raw).kind == OutcomeKind.INGESTED
    assert receive(bounce).kind == OutcomeKind.IGNORED  # names no mail sent
    assert receive(sender).kind == OutcomeKind.QUARANTINED  # no usable From
    assert receive(raw, brand=brand).kind == OutcomeKind.DUPLICATE  # routing headers read again
    assert time.process_time() - started < 3


def test_quarantine_list_fields_mask_card_numbers(brand, mailbox):
    raw = (
        b"To: support@maison.example\r\n"
        b"Subject: Ma carte 4111 1111 1111 1111\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Somebody forgot the From header.\r\n"
    )
    outcome = receive(raw)
    assert outcome.kind == OutcomeKind.QUARANTINED
    assert outcome.quarantined.header_subject == "Ma carte 4111 11** **** 1111"
    # The mail itself is kept as received but for its card numbers (tests/test_mail_security.py).
    assert bytes(outcome.quarantined.raw) == raw.replace(
        b"4111 1111 1111 1111", b"4111 11** **** 1111"
    )


def test_failed_ingest_is_quarantined_and_retry_stores_it(brand, mailbox, monkeypatch):
    def broken(inbound):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(receiving, "ingest_message", broken)
    outcome = receive(mail(message_id="retry.me@example.com"))
    assert outcome.kind == OutcomeKind.QUARANTINED
    assert outcome.reason == "ingest failed: RuntimeError: disk on fire"
    kept = outcome.quarantined

    again = retry_quarantined(kept)  # still broken: same row, one more attempt
    assert again.kind == OutcomeKind.QUARANTINED
    assert QuarantinedMail.objects.count() == 1
    kept.refresh_from_db()
    assert kept.attempts == 2 and not kept.resolved

    monkeypatch.undo()
    fixed = retry_quarantined(kept)
    assert fixed.kind == OutcomeKind.INGESTED
    kept.refresh_from_db()
    assert kept.resolved and kept.resolved_at is not None
    assert kept.resolution == f"ingested conversation #{fixed.conversation_id}"
    assert Message.objects.get(external_id="retry.me@example.com")


def test_database_outage_is_raised_not_quarantined(brand, mailbox, monkeypatch):
    def outage(inbound):
        raise OperationalError("connection refused")

    monkeypatch.setattr(receiving, "ingest_message", outage)
    with pytest.raises(OperationalError):
        receive(mail())
    assert not QuarantinedMail.objects.exists()


# --- Quarantine in the console ---------------------------------------------------------------


@pytest.fixture
def quarantined(brand, mailbox):
    return receive(corpus("headers_only_unreadable.eml")).quarantined


@pytest.fixture
def admin_client(client, brand):
    client.force_login(make_agent(brand, role=Role.ADMIN).user)
    return client


def test_administrators_see_the_quarantine_link(admin_client, quarantined):
    """In Settings, the top bar's one entry for administrators."""
    link = reverse("email:quarantine").encode()
    assert link in admin_client.get(reverse("administration:brand")).content


def test_agents_do_not_see_the_quarantine_link(agent_client, quarantined):
    assert (
        reverse("email:quarantine").encode()
        not in agent_client.get(reverse("console:inbox")).content
    )


def test_administrator_lists_downloads_and_retries_quarantined_mail(admin_client, quarantined):
    page = admin_client.get(reverse("email:quarantine"))
    assert page.status_code == 200
    assert b"no sender, subject, text or attachment" in page.content

    raw = admin_client.get(reverse("email:quarantine_raw", args=[quarantined.pk]))
    assert raw.status_code == 200
    assert raw["Content-Type"] == "message/rfc822"
    assert raw["Content-Disposition"].startswith("attachment;")
    assert raw.content == bytes(quarantined.raw)

    retried = admin_client.post(reverse("email:quarantine_retry", args=[quarantined.pk]))
    assert retried.status_code == 302
    quarantined.refresh_from_db()
    assert quarantined.attempts == 2 and not quarantined.resolved


def test_administrator_retry_resolves_a_mail_that_now_reads(admin_client, brand, mailbox):
    kept = QuarantinedMail.objects.create(
        brand=brand, source="smtp", raw=mail(), reason="parser bug (since fixed)"
    )
    admin_client.post(reverse("email:quarantine_retry", args=[kept.pk]))
    kept.refresh_from_db()
    assert kept.resolved
    assert Conversation.objects.filter(brand=brand).count() == 1
    listed = admin_client.get(reverse("email:quarantine"))
    assert f'id="quarantined-{kept.pk}"'.encode() not in listed.content
    resolved = admin_client.get(reverse("email:quarantine") + "?resolved=1")
    assert f'id="quarantined-{kept.pk}"'.encode() in resolved.content


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_quarantine_is_for_administrators_only(client, brand, quarantined, role):
    client.force_login(make_agent(brand, role=role).user)
    assert client.get(reverse("email:quarantine")).status_code == 403
    assert client.get(reverse("email:quarantine_raw", args=[quarantined.pk])).status_code == 403
    retry = client.post(reverse("email:quarantine_retry", args=[quarantined.pk]))
    assert retry.status_code == 403
    quarantined.refresh_from_db()
    assert quarantined.attempts == 1


def test_another_brands_administrator_sees_nothing(client, other_brand, quarantined):
    client.force_login(make_agent(other_brand, role=Role.ADMIN).user)
    page = client.get(reverse("email:quarantine"))
    assert page.status_code == 200 and b"no sender, subject" not in page.content
    assert client.get(reverse("email:quarantine_raw", args=[quarantined.pk])).status_code == 404
    assert client.post(reverse("email:quarantine_retry", args=[quarantined.pk])).status_code == 404


def test_quarantine_is_in_the_django_admin(client, quarantined):
    assert admin.site.is_registered(QuarantinedMail) and admin.site.is_registered(Mailbox)
    operator = get_user_model().objects.create_superuser("operator", "op@example.com", "pw")
    client.force_login(operator)
    page = client.get(reverse("admin:email_quarantinedmail_changelist"))
    assert page.status_code == 200 and b"no sender, subject" in page.content


# --- HTTP endpoint ---------------------------------------------------------------------------


@pytest.fixture
def admin_key(brand):
    _, key = ApiToken.issue(make_agent(brand, role=Role.ADMIN), "mail provider")
    return key


def post_mail(client, raw: bytes, key: str | None, content_type: str = "message/rfc822"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.post(reverse("email:inbound"), data=raw, content_type=content_type, **headers)


def test_endpoint_ingests_raw_mail_and_replays_are_duplicates(client, brand, mailbox, admin_key):
    raw = mail(message_id="http.1@example.com")
    response = post_mail(client, raw, admin_key)
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "ingested" and body["conversation_created"] is True
    conversation = Conversation.objects.get(pk=body["conversation_id"])
    assert conversation.brand == brand
    replay = post_mail(client, raw, admin_key).json()
    assert replay["outcome"] == "duplicate"
    assert replay["conversation_id"] == conversation.pk


def test_endpoint_reports_quarantine_and_loops(client, brand, mailbox, admin_key):
    quarantined = post_mail(client, corpus("headers_only_unreadable.eml"), admin_key).json()
    assert quarantined["outcome"] == "quarantined" and quarantined["quarantine_id"]
    ignored = post_mail(client, corpus("out_of_office.eml"), admin_key).json()
    assert ignored["outcome"] == "ignored"


def test_endpoint_quarantines_a_senderless_mail_in_one_warning(
    client, brand, mailbox, admin_key, caplog
):
    caplog.set_level(logging.DEBUG)
    raw = senderless("From: root@localhost\r\n")
    body = post_mail(client, raw, admin_key).json()
    assert body["outcome"] == "quarantined" and body["quarantine_id"]
    assert bytes(QuarantinedMail.objects.get(pk=body["quarantine_id"]).raw) == raw
    loud, tracebacks = refusal_records(caplog)
    assert loud == [
        (logging.WARNING, f"mail quarantined (brand {brand.slug}, http): {body['reason']}")
    ]
    assert tracebacks == []


def test_endpoint_refuses_bad_requests(client, brand, mailbox, admin_key, settings):
    assert post_mail(client, mail(), None).status_code == 401
    assert post_mail(client, mail(), "not-a-key").json() == {"error": "Unknown API key."}
    assert post_mail(client, b"  \r\n", admin_key).status_code == 400
    assert post_mail(client, b'{"a": 1}', admin_key, "application/json").status_code == 415
    settings.EMAIL_MAX_MESSAGE_BYTES = 500
    too_big = post_mail(client, mail("x" * 1000), admin_key)
    assert too_big.status_code == 413 and "error" in too_big.json()
    assert not Message.objects.exists()


def test_endpoint_reads_past_the_form_upload_limit(client, brand, mailbox, admin_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post_mail(client, mail("long " * 1000), admin_key)
    assert response.status_code == 200 and response.json()["outcome"] == "ingested"


def test_endpoint_needs_an_administrators_key(client, brand, mailbox):
    _, key = ApiToken.issue(make_agent(brand, role=Role.AGENT), "agent key")
    response = post_mail(client, mail(), key)
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_endpoint_stores_in_the_tokens_brand_whatever_the_recipient(
    client, brand, other_brand, mailbox
):
    _, key = ApiToken.issue(make_agent(other_brand, role=Role.ADMIN), "rival")
    body = post_mail(client, mail(to=SUPPORT), key).json()
    assert Conversation.objects.get(pk=body["conversation_id"]).brand == other_brand
    assert not Conversation.objects.filter(brand=brand).exists()


# --- Console rendering -----------------------------------------------------------------------


def test_console_folds_quoted_history_and_shows_html_mail_as_text(agent_client, brand, mailbox):
    reply = receive(corpus("reply_quoted_fr.eml"))
    page = agent_client.get(reverse("console:conversation", args=[reply.conversation_id]))
    html = page.content.decode()
    visible, _, folded = html.partition('<details class="message__history"')
    assert "Merci, c&#x27;est bien reçu." in visible
    assert "votre remboursement est parti" not in visible
    assert "votre remboursement est parti" in folded
    html_only = receive(corpus("html_only_script.eml"))
    page = agent_client.get(reverse("console:thread_fragment", args=[html_only.conversation_id]))
    assert b"The box arrived crushed." in page.content
    assert b"<script" not in page.content.split(b'id="timeline"')[1]
