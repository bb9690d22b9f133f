"""IMAP polling: mail that reaches a brand through a provider's mailbox (Gmail, OVH, …).

A Mailbox with an ``imap_url`` (``imaps://user:password@host:993/INBOX``) is
read by ``comptoir poll_imap``: every unseen message is fetched without
marking it (``BODY.PEEK[]``), handed to ``receive_mail`` like mail from the
SMTP listener, and flagged ``\\Seen`` only once ``receive_mail`` returned, i.e.
once the mail is committed (ingested, duplicate, quarantined, ignored auto-reply,
bounce). A mail whose processing raised (the database was down) stays unseen
and is tried again at the next poll; since ingestion is idempotent on the
Message-ID, a mail flagged late or twice is never stored twice.

A message over ``EMAIL_MAX_MESSAGE_BYTES`` (its ``RFC822.SIZE``, asked first)
is never downloaded: it is quarantined without its content (reason "too
large", its headers shown in the list) and flagged ``\\Seen``, so that brand
administrators see it once and it stays in the provider's mailbox for a mail
client. Leaving it unseen instead would fetch its size again at every poll and
tell nobody but the logs.

Processed mail is *flagged* rather than moved: it works on every server and
leaves the folder layout alone. The mailbox should therefore be dedicated to
Comptoir: somebody reading it with a mail client marks mail seen before
Comptoir gets it.

URL schemes: ``imaps://`` (TLS from the start, port 993), ``imap+starttls://``
(port 143, then STARTTLS) and ``imap://`` (no encryption: only for a server on
the same machine, as in tests). User and password are percent-encoded; the
path is the folder (default ``INBOX``). Certificates are verified.
"""

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import close_old_connections, connections
from imapclient import IMAPClient
from imapclient.imapclient import SEEN

from comptoir.touchpoints.email.models import Mailbox, MailSource
from comptoir.touchpoints.email.receiving import MailOutcome, quarantine_mail, receive_mail

logger = logging.getLogger(__name__)

IMAP_TIMEOUT_SECONDS = 30
# Fetched per round; the rest waits for the next one (keeps a round short after an outage).
MAX_MESSAGES_PER_ROUND = 200
# What is read of a message too large to download: the start of its header block.
MAX_HEADER_BYTES_OF_TOO_LARGE = 16_384
# RFC 2177: re-issue IDLE before the server's 30-minute inactivity timeout.
MAX_IDLE_SECONDS = 25 * 60
# How often an IDLE wait looks at the stop flag.
IDLE_SLICE_SECONDS = 2
RECONNECT_DELAY_SECONDS = 10
MAX_RECONNECT_DELAY_SECONDS = 15 * 60

SCHEMES = {"imaps": ("ssl", 993), "imap+starttls": ("starttls", 143), "imap": ("plain", 143)}

Receive = Callable[..., MailOutcome]


class ImapUrlError(ValueError):
    """The Mailbox's ``imap_url`` cannot be used; the message says why."""


@dataclass(frozen=True)
class ImapTarget:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    folder: str
    security: str  # "ssl", "starttls" or "plain"


@dataclass
class PollReport:
    """What one poll of one mailbox did: outcome kinds counted, and mails that failed."""

    outcomes: dict[str, int] = field(default_factory=dict)
    failed: int = 0

    @property
    def processed(self) -> int:
        return sum(self.outcomes.values())

    def describe(self) -> str:
        parts = [f"{count} {kind}" for kind, count in sorted(self.outcomes.items())]
        if self.failed:
            parts.append(f"{self.failed} failed (left unseen)")
        return ", ".join(parts) or "nothing new"


def parse_imap_url(url: str) -> ImapTarget:
    """``imaps://user:password@host:993/INBOX`` → connection settings."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise ImapUrlError(f"scheme {parts.scheme!r} is not one of {', '.join(SCHEMES)}")
    if not parts.hostname or not parts.username:
        raise ImapUrlError("the URL needs a user and a host: imaps://user:password@host/INBOX")
    security, default_port = SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError as error:
        raise ImapUrlError(f"bad port: {error}") from error
    return ImapTarget(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        security=security,
    )


def connect(target: ImapTarget) -> IMAPClient:
    """A logged-in client with ``target.folder`` selected."""
    context = ssl.create_default_context()
    client = IMAPClient(
        target.host,
        port=target.port,
        ssl=target.security == "ssl",
        ssl_context=context if target.security == "ssl" else None,
        timeout=IMAP_TIMEOUT_SECONDS,
    )
    try:
        if target.security == "starttls":
            client.starttls(context)
        client.login(target.username, target.password)
        client.select_folder(target.folder)
    except Exception:
        _logout_quietly(client)
        raise
    return client


def poll_mailbox(mailbox: Mailbox, *, receive: Receive = receive_mail) -> PollReport:
    """Connect, process the unseen mail of ``mailbox``'s folder once, disconnect."""
    client = connect(parse_imap_url(mailbox.imap_url))
    try:
        return process_unseen(client, mailbox, receive=receive)
    finally:
        _logout_quietly(client)


def process_unseen(
    client: IMAPClient, mailbox: Mailbox, *, receive: Receive = receive_mail
) -> PollReport:
    """Hand every unseen mail of the selected folder to ``receive``; flag the committed ones.

    ``receive`` is ``receive_mail``; tests pass one that fails on purpose.
    """
    report = PollReport()
    uids = sorted(client.search(["UNSEEN"]))[:MAX_MESSAGES_PER_ROUND]
    sizes = client.fetch(uids, ["RFC822.SIZE"]) if uids else {}
    for uid in uids:
        size = sizes.get(uid, {}).get(b"RFC822.SIZE")
        if size is None:  # expunged meanwhile by another client
            continue
        if size > settings.EMAIL_MAX_MESSAGE_BYTES:
            try:
                _quarantine_too_large(client, mailbox, uid, size)
            except Exception:
                report.failed += 1
                logger.exception("IMAP mail uid %s of %s: too large, left unseen", uid, mailbox)
                continue
            client.add_flags([uid], [SEEN])
            report.outcomes["quarantined"] = report.outcomes.get("quarantined", 0) + 1
            continue
        fetched = client.fetch([uid], ["BODY.PEEK[]"]).get(uid)
        raw = fetched.get(b"BODY[]") if fetched else None
        if raw is None:  # expunged meanwhile by another client
            continue
        try:
            outcome = receive(raw, recipients=None, brand=mailbox.brand, source=MailSource.IMAP)
        except Exception:
            report.failed += 1
            logger.exception(
                "IMAP mail uid %s of %s could not be processed; left unseen", uid, mailbox
            )
            continue
        client.add_flags([uid], [SEEN])
        kind = str(outcome.kind)
        report.outcomes[kind] = report.outcomes.get(kind, 0) + 1
        logger.info("IMAP %s uid %s: %s %s", mailbox, uid, kind, outcome.describe())
    return report


def _quarantine_too_large(client: IMAPClient, mailbox: Mailbox, uid: int, size: int) -> None:
    """Quarantine a message over the size limit without downloading it: headers only, for the list.

    The raw mail is *not* kept (only the provider's mailbox has it), so a retry
    from the console cannot ingest a headers-only copy as if it were the mail.
    """
    limit = settings.EMAIL_MAX_MESSAGE_BYTES
    item = f"BODY.PEEK[HEADER]<0.{MAX_HEADER_BYTES_OF_TOO_LARGE}>"
    fetched = client.fetch([uid], [item]).get(uid) or {}
    header = next((v for k, v in fetched.items() if k.startswith(b"BODY[HEADER]")), b"") or b""
    quarantine_mail(
        b"",
        brand=mailbox.brand,
        source=MailSource.IMAP,
        reason=(
            f"too large: {size} bytes (EMAIL_MAX_MESSAGE_BYTES is {limit}); not downloaded, "
            f"left in the IMAP folder {parse_imap_url(mailbox.imap_url).folder} (uid {uid})"
        ),
        header_block=bytes(header),
        size=size,
    )


def watch_mailbox(
    mailbox_id: int,
    stop: threading.Event,
    *,
    interval: float = 60,
    idle: bool = True,
    receive: Receive = receive_mail,
) -> None:
    """Keep one mailbox processed until ``stop`` is set: IDLE if offered, else every ``interval``.

    Reconnects after any failure, waiting longer after each one in a row (a
    wrong password must not hammer the provider into locking the account);
    returns when the mailbox is deleted or loses its URL.
    """
    try:
        _watch(mailbox_id, stop, interval=interval, idle=idle, receive=receive)
    finally:
        connections.close_all()  # this thread's own database connection


def _watch(
    mailbox_id: int, stop: threading.Event, *, interval: float, idle: bool, receive: Receive
) -> None:
    delay = RECONNECT_DELAY_SECONDS
    while not stop.is_set():
        try:
            close_old_connections()
            mailbox = Mailbox.objects.select_related("brand").filter(pk=mailbox_id).first()
            if mailbox is None or not mailbox.imap_url:
                return
            client = connect(parse_imap_url(mailbox.imap_url))
            delay = RECONNECT_DELAY_SECONDS
            try:
                use_idle = idle and b"IDLE" in client.capabilities()
                while not stop.is_set():
                    report = process_unseen(client, mailbox, receive=receive)
                    if report.processed or report.failed:
                        logger.info("IMAP %s: %s", mailbox, report.describe())
                    close_old_connections()
                    if use_idle:
                        _idle_wait(client, stop, min(interval, MAX_IDLE_SECONDS))
                    else:
                        stop.wait(interval)
                        client.noop()
            finally:
                _logout_quietly(client)
        except Exception:
            logger.exception(
                "IMAP polling of mailbox %s failed; reconnecting in %ss",
                mailbox_id,
                delay,
            )
            stop.wait(delay)
            delay = min(delay * 2, MAX_RECONNECT_DELAY_SECONDS)


def _idle_wait(client: IMAPClient, stop: threading.Event, seconds: float) -> None:
    """Wait in IDLE until the server reports a change, ``seconds`` pass or ``stop`` is set."""
    deadline = time.monotonic() + seconds
    client.idle()
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            responses = client.idle_check(timeout=min(IDLE_SLICE_SECONDS, seconds))
            if any(_is_new_mail(response) for response in responses):
                return
    finally:
        client.idle_done()


def _is_new_mail(response: tuple) -> bool:
    return len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")


def _logout_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        logger.debug("IMAP logout failed", exc_info=True)


def run_imap_watchers(stop: threading.Event, *, interval: float = 60, idle: bool = True) -> None:
    """One ``watch_mailbox`` thread per Mailbox with an ``imap_url``, until ``stop`` is set.

    The list is read again every ``interval`` seconds (at least 5): a new
    mailbox gets a watcher; a watcher ends when its mailbox loses its URL.
    """
    watchers: dict[int, threading.Thread] = {}
    while not stop.is_set():
        try:
            close_old_connections()
            mailbox_ids = list(Mailbox.objects.exclude(imap_url="").values_list("pk", flat=True))
        except Exception:
            logger.exception("could not list the IMAP mailboxes; trying again")
            mailbox_ids = []
        for mailbox_id in mailbox_ids:
            thread = watchers.get(mailbox_id)
            if thread is None or not thread.is_alive():
                watchers[mailbox_id] = thread = threading.Thread(
                    target=watch_mailbox,
                    args=(mailbox_id, stop),
                    kwargs={"interval": interval, "idle": idle},
                    name=f"comptoir-imap-{mailbox_id}",
                    daemon=True,
                )
                thread.start()
        stop.wait(max(interval, 5))
    for thread in watchers.values():
        thread.join(timeout=IDLE_SLICE_SECONDS + IMAP_TIMEOUT_SECONDS)
    connections.close_all()
