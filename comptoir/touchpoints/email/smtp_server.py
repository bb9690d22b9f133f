"""The built-in SMTP listener (aiosmtpd): mail to a brand's mailbox, straight into Comptoir.

Replies are true to what happened, because the sending server acts on them:

* ``RCPT TO`` an address that is no mailbox: ``550 5.1.1`` (bounce, never retried);
* a message over ``EMAIL_MAX_MESSAGE_BYTES``: ``552 5.3.4``;
* stored (ingested, duplicate, bounce/auto-reply handled, or quarantined):
  ``250``, sent only once ``receive_mail`` has committed;
* the database unreachable: ``451 4.3.0``, and the sender retries later.

The ORM is synchronous, so database work runs in the event loop's thread pool.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import close_old_connections

from comptoir.touchpoints.email.models import MailSource
from comptoir.touchpoints.email.receiving import (
    TRANSIENT_ERRORS,
    MailOutcome,
    OutcomeKind,
    lookup_mailbox,
    receive_mail,
)

logger = logging.getLogger(__name__)

TEMPORARY_FAILURE = "451 4.3.0 Temporary failure, please try again later"


def _with_fresh_connection(function: Callable[..., Any], *args: Any) -> Any:
    """Run ORM work in a pool thread, dropping connections that died or expired."""
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


def _brand_of(address: str) -> int | None:
    mailbox = lookup_mailbox(address)
    return mailbox.brand_id if mailbox else None


def deliver(raw: bytes, mail_from: str, rcpt_tos: list[str]) -> list[MailOutcome]:
    """Hand the mail to ``receive_mail`` once per brand among the recipients."""
    by_brand: dict[int | None, list[str]] = {}
    for address in rcpt_tos:
        by_brand.setdefault(_brand_of(address), []).append(address)
    return [
        receive_mail(
            raw,
            recipients=addresses,
            brand=None,
            source=MailSource.SMTP,
            envelope_sender=mail_from,
        )
        for brand_id, addresses in by_brand.items()
        if brand_id is not None
    ]


class ComptoirSMTPHandler:
    """aiosmtpd handler: checks recipients at ``RCPT`` time, stores at ``DATA`` time."""

    async def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, _with_fresh_connection, function, *args)

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        try:
            brand_id = await self._run(_brand_of, address)
        except TRANSIENT_ERRORS:
            logger.exception("RCPT %s: database unavailable", address)
            return TEMPORARY_FAILURE
        if brand_id is None:
            logger.info("RCPT %s refused: no such mailbox", address)
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if len(raw) > settings.EMAIL_MAX_MESSAGE_BYTES:
            logger.info("mail from %s refused: %d bytes", envelope.mail_from, len(raw))
            return "552 5.3.4 Message too big for this system"
        try:
            outcomes = await self._run(deliver, raw, envelope.mail_from or "", envelope.rcpt_tos)
        except TRANSIENT_ERRORS:
            logger.exception("mail from %s not stored: database unavailable", envelope.mail_from)
            return TEMPORARY_FAILURE
        except Exception:
            logger.exception("mail from %s not stored", envelope.mail_from)
            return TEMPORARY_FAILURE
        if not outcomes:  # every mailbox vanished between RCPT and DATA
            return "550 5.1.1 No such mailbox here"
        quarantined = [o for o in outcomes if o.kind == OutcomeKind.QUARANTINED]
        if quarantined:
            return f"250 2.0.0 Stored in quarantine for review ({quarantined[0].reason[:200]})"
        return "250 2.0.0 Message accepted"


def smtp_controller(host: str, port: int) -> Controller:
    """A controller (not started) serving Comptoir's handler on ``host:port``."""
    return Controller(
        ComptoirSMTPHandler(),
        hostname=host,
        port=port,
        data_size_limit=settings.EMAIL_MAX_MESSAGE_BYTES,
        ident="Comptoir ESMTP",
    )


def parse_host_port(value: str, default_port: int = 2525) -> tuple[str, int]:
    """``"127.0.0.1:2525"`` → ``("127.0.0.1", 2525)``; a bare host gets ``default_port``."""
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, default_port
    return host.strip("[]") or "127.0.0.1", int(port)
