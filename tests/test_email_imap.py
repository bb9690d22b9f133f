"""IMAP polling against a real Dovecot server started by the tests."""

import io
import logging
import threading
import time
import uuid

import pytest
from django.core.management import call_command
from django.db import OperationalError
from imapclient.imapclient import SEEN

from comptoir.conversations.models import Message
from comptoir.outbox.models import Delivery
from comptoir.tasks import run_pending
from comptoir.touchpoints.email.imap import (
    ImapUrlError,
    parse_imap_url,
    poll_mailbox,
    process_unseen,
    run_imap_watchers,
    watch_mailbox,
)
from comptoir.touchpoints.email.models import Mailbox, QuarantinedMail
from comptoir.touchpoints.email.receiving import receive_mail, retry_quarantined
from tests.imap_server import Dovecot, dovecot_binary
from tests.live_server import Site
from tests.task_helpers import queued_task_names
from tests.test_email_inbound import refusal_records

ACKNOWLEDGE_TASK = "comptoir.touchpoints.email.listeners.acknowledge_new_conversation"

needs_dovecot = pytest.mark.skipif(
    dovecot_binary() is None, reason="dovecot is not installed (apt-get install dovecot-imapd)"
)


@pytest.fixture(scope="module")
def dovecot():
    server = Dovecot().start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(brand, dovecot):
    address = f"support-{uuid.uuid4().hex[:8]}@maison.example"  # one IMAP user per test
    return Mailbox.objects.create(
        brand=brand, address=address, sender_name="Maison", imap_url=dovecot.url(address)
    )


@pytest.fixture
def imap(dovecot, mailbox):
    client = dovecot.client(mailbox.address)
    yield client
    client.logout()


def mail(mailbox: Mailbox, message_id: str, sender: str = "paul@client.example") -> bytes:
    return mail_to(mailbox.address, message_id, sender)


def mail_to(address: str, message_id: str, sender: str = "paul@client.example") -> bytes:
    return (
        f"From: Paul Martin <{sender}>\r\n"
        f"To: {address}\r\n"
        f"Subject: Commande {message_id}\r\n"
        f"Message-ID: <{message_id}>\r\n"
        "Date: Tue, 24 Nov 2026 09:00:00 +0100\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Bonjour, où est mon colis ?\r\n"
    ).encode()


def flags_by_message_id(imap) -> dict[str, bool]:
    """Message-ID → whether the mail is flagged \\Seen, read without marking anything."""
    imap.noop()
    fetched = imap.fetch(imap.search(["ALL"]), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    result = {}
    for data in fetched.values():
        header = data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().strip()
        result[header.split("<")[1].rstrip(">")] = SEEN in data[b"FLAGS"]
    return result


def stored(message_id: str) -> bool:
    return Message.objects.filter(channel="email", external_id=message_id).exists()


@pytest.mark.live
@needs_dovecot
def test_unseen_mail_is_ingested_then_flagged_seen(mailbox, imap):
    imap.append("INBOX", mail(mailbox, "new.1@client.example"))
    imap.append("INBOX", mail(mailbox, "read.2@client.example"), flags=[SEEN])

    report = poll_mailbox(mailbox)

    assert report.outcomes == {"ingested": 1}
    assert report.failed == 0
    message = Message.objects.get(channel="email", external_id="new.1@client.example")
    assert message.conversation.brand == mailbox.brand
    assert "colis" in message.text
    assert not stored("read.2@client.example")  # already seen: not Comptoir's
    assert flags_by_message_id(imap) == {
        "new.1@client.example": True,
        "read.2@client.example": True,
    }
    # A new conversation from a mailbox that acknowledges: the acknowledgement is queued,
    # then sent through the outbox.
    assert ACKNOWLEDGE_TASK in queued_task_names()
    run_pending()
    assert Delivery.objects.filter(message__conversation=message.conversation).exists()

    assert poll_mailbox(mailbox).processed == 0


@pytest.mark.live
@needs_dovecot
def test_a_mail_whose_processing_raises_stays_unseen(mailbox, imap):
    imap.append("INBOX", mail(mailbox, "fine.1@client.example"))
    imap.append("INBOX", mail(mailbox, "unlucky.2@client.example"))

    def database_down_for_one(raw: bytes, **kwargs):
        if b"unlucky.2@" in raw:
            raise OperationalError("database is locked")
        return receive_mail(raw, **kwargs)

    report = poll_mailbox(mailbox, receive=database_down_for_one)

    assert report.outcomes == {"ingested": 1}
    assert report.failed == 1
    assert flags_by_message_id(imap) == {
        "fine.1@client.example": True,
        "unlucky.2@client.example": False,
    }
    assert not stored("unlucky.2@client.example")

    # The database is back: the next poll takes the mail that was left.
    assert poll_mailbox(mailbox).outcomes == {"ingested": 1}
    assert stored("unlucky.2@client.example")
    assert flags_by_message_id(imap)["unlucky.2@client.example"] is True


@pytest.mark.live
@needs_dovecot
def test_a_senderless_mail_is_quarantined_in_one_warning_without_traceback(mailbox, imap, caplog):
    caplog.set_level(logging.DEBUG)
    raw = mail(mailbox, "cron.1@localhost").replace(
        b"From: Paul Martin <paul@client.example>", b"From: root@localhost"
    )
    imap.append("INBOX", raw)

    report = poll_mailbox(mailbox)

    assert report.outcomes == {"quarantined": 1} and report.failed == 0
    kept = QuarantinedMail.objects.get(brand=mailbox.brand, source="imap")
    assert kept.reason.startswith("no usable sender address (From)")
    assert flags_by_message_id(imap) == {"cron.1@localhost": True}  # kept: not fetched again
    loud, tracebacks = refusal_records(caplog)
    brand = mailbox.brand.slug
    assert loud == [(logging.WARNING, f"mail quarantined (brand {brand}, imap): {kept.reason}")]
    assert tracebacks == []


@pytest.mark.live
@needs_dovecot
def test_a_mail_seen_again_after_a_lost_flag_is_a_duplicate(mailbox, imap):
    imap.append("INBOX", mail(mailbox, "once.1@client.example"))
    poll_mailbox(mailbox)
    uid = imap.search(["ALL"])[0]
    imap.remove_flags([uid], [SEEN])  # as if the flag had not reached the server

    assert poll_mailbox(mailbox).outcomes == {"duplicate": 1}
    assert Message.objects.filter(external_id="once.1@client.example").count() == 1


@pytest.mark.live
@needs_dovecot
def test_poll_imap_once_polls_every_mailbox_and_reports_a_bad_one(mailbox, imap, brand):
    Mailbox.objects.create(brand=brand, address="broken@maison.example", imap_url="pop3://x@y")
    imap.append("INBOX", mail(mailbox, "cmd.1@client.example"))
    out, err = io.StringIO(), io.StringIO()

    call_command("poll_imap", "--once", stdout=out, stderr=err)

    assert f"{mailbox.address}: 1 ingested" in out.getvalue()
    assert "broken@maison.example: bad imap_url" in err.getvalue()
    assert stored("cmd.1@client.example")


@pytest.mark.live
@needs_dovecot
def test_a_mail_over_the_size_limit_is_quarantined_without_being_downloaded(
    mailbox, imap, dovecot, settings
):
    settings.EMAIL_MAX_MESSAGE_BYTES = 4_000
    imap.append("INBOX", mail(mailbox, "small.1@client.example"))
    huge = mail(mailbox, "huge.2@client.example") + (b"A" * 76 + b"\r\n") * 100  # ~8 kB
    imap.append("INBOX", huge)
    client = dovecot.client(mailbox.address)
    requested: list[tuple[list[int], list[str]]] = []
    real_fetch = client.fetch

    def recording_fetch(uids, items, *args, **kwargs):  # the real server answers
        requested.append((list(uids), list(items)))
        return real_fetch(uids, items, *args, **kwargs)

    client.fetch = recording_fetch
    huge_uid = max(imap.search(["ALL"]))
    try:
        report = process_unseen(client, mailbox)
    finally:
        client.logout()

    assert report.outcomes == {"ingested": 1, "quarantined": 1}
    assert stored("small.1@client.example") and not stored("huge.2@client.example")
    # Its size was asked, its headers read (capped), its content never.
    assert all(
        not any(item.upper().startswith("BODY.PEEK[]") for item in items)
        for uids, items in requested
        if huge_uid in uids
    )
    kept = QuarantinedMail.objects.get()
    assert kept.brand == mailbox.brand and kept.source == "imap"
    assert kept.reason.startswith(f"too large: {len(huge)} bytes (EMAIL_MAX_MESSAGE_BYTES is 4000)")
    assert kept.size == len(huge) and bytes(kept.raw) == b""
    assert kept.header_subject == "Commande huge.2@client.example"
    assert flags_by_message_id(imap) == {
        "small.1@client.example": True,
        "huge.2@client.example": True,
    }
    # A retry cannot turn its headers into a message: it stays quarantined as it was.
    assert retry_quarantined(kept).kind == "quarantined"
    kept.refresh_from_db()
    assert not kept.resolved and kept.reason.startswith("too large")
    assert poll_mailbox(mailbox).processed == 0


def wait_until_seen(imap, message_id: str, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if flags_by_message_id(imap).get(message_id):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.live
@needs_dovecot
@pytest.mark.django_db(transaction=True)
def test_the_watcher_wakes_up_in_idle_when_mail_arrives(mailbox, imap):
    stop = threading.Event()
    # A long interval: only IDLE can make the second mail arrive within the wait.
    watcher = threading.Thread(
        target=watch_mailbox, args=(mailbox.pk, stop), kwargs={"interval": 120, "idle": True}
    )
    imap.append("INBOX", mail(mailbox, "before.1@client.example"))
    watcher.start()
    try:
        assert wait_until_seen(imap, "before.1@client.example")  # the first round
        imap.append("INBOX", mail(mailbox, "during.2@client.example"))
        assert wait_until_seen(imap, "during.2@client.example")  # IDLE woke the watcher
    finally:
        stop.set()
        watcher.join(timeout=15)
    assert not watcher.is_alive()
    assert stored("before.1@client.example")
    assert stored("during.2@client.example")


@pytest.mark.live
@needs_dovecot
@pytest.mark.django_db(transaction=True)
def test_the_watchers_poll_every_interval_without_idle(mailbox, imap):
    stop = threading.Event()
    runner = threading.Thread(
        target=run_imap_watchers, args=(stop,), kwargs={"interval": 1, "idle": False}
    )
    runner.start()
    try:
        imap.append("INBOX", mail(mailbox, "polled.1@client.example"))
        assert wait_until_seen(imap, "polled.1@client.example")
    finally:
        stop.set()
        runner.join(timeout=40)
    assert not runner.is_alive()
    assert stored("polled.1@client.example")


@pytest.mark.live
@needs_dovecot
def test_serve_with_imap_fetches_the_brands_mail(tmp_path, dovecot):
    """``comptoir serve --imap`` (one process for a small install) watches the mailboxes."""
    address = f"serve-{uuid.uuid4().hex[:8]}@maison.example"
    site = Site(tmp_path)
    site.manage("migrate", "--no-input")
    site.python(
        "import json\n"
        "from comptoir.tenancy.models import Brand\n"
        "from comptoir.touchpoints.email.models import Mailbox\n"
        "b = Brand.objects.create(name='Maison', slug='maison')\n"
        f"Mailbox.objects.create(brand=b, address={address!r}, imap_url={dovecot.url(address)!r})\n"
        "print(json.dumps({}))"
    )
    client = dovecot.client(address)
    try:
        site.start_server(options=("--imap",))
        client.append("INBOX", mail_to(address, "served.1@client.example"))
        assert wait_until_seen(client, "served.1@client.example")  # after the commit
        found = site.python(
            "import json\n"
            "from comptoir.conversations.models import Message\n"
            "m = Message.objects.get(external_id='served.1@client.example')\n"
            "print(json.dumps({'channel': m.channel, 'text': m.text}))"
        )
        assert found == {"channel": "email", "text": "Bonjour, où est mon colis ?"}
    finally:
        client.logout()
        site.stop()


def test_imap_urls_are_parsed():
    target = parse_imap_url("imaps://support%40maison.example:p%2Fss@imap.example/Support/Clients")
    assert (target.host, target.port, target.security) == ("imap.example", 993, "ssl")
    assert (target.username, target.password) == ("support@maison.example", "p/ss")
    assert target.folder == "Support/Clients"
    assert parse_imap_url("imap+starttls://u:p@h").port == 143
    assert parse_imap_url("imap+starttls://u:p@h").security == "starttls"
    assert parse_imap_url("imap://u:p@h:1143").folder == "INBOX"
    assert "secret" not in repr(parse_imap_url("imaps://u:secret@h"))
    with pytest.raises(ImapUrlError, match="scheme"):
        parse_imap_url("pop3://u:p@h")
    with pytest.raises(ImapUrlError, match="user"):
        parse_imap_url("imaps://imap.example")
