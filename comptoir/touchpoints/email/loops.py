"""Recognising mail no human wrote: auto-replies, bulk mail and bounces.

Such mail must never open a conversation nor trigger an acknowledgement (two
autoresponders answering each other is the classic mail loop), and a bounce
tells us an address is failing. The rules follow RFC 3834 (``Auto-Submitted``),
the de-facto ``Precedence`` and ``X-Autoreply`` headers, and RFC 3464 DSNs.

Anyone can send a bounce-shaped mail, so a bounce also reports the Message-IDs
of the mail it says bounced (``original_message_ids``): ``receiving.py`` only
believes it when one of them is a mail Comptoir sent to that address.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum

from comptoir.touchpoints.email.addresses import address_tokens
from comptoir.touchpoints.email.message_ids import message_ids_in

MAX_FAILED_RECIPIENTS = 50
MAX_ORIGINAL_MESSAGE_IDS = 20
MAX_SCANNED_TEXT_CHARS = 200_000

ReadHeader = Callable[[Message, str], str]


class AutoSubmittedKind(StrEnum):
    NONE = "none"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"


@dataclass(frozen=True)
class AutoSubmission:
    """Whether a machine sent the mail, and why we think so (shown to admins, logged)."""

    kind: AutoSubmittedKind = AutoSubmittedKind.NONE
    reason: str = ""
    failed_recipients: tuple[str, ...] = ()
    # Bounces only: Message-IDs (without <>) of the mail said to have bounced.
    original_message_ids: tuple[str, ...] = ()

    @property
    def is_automatic(self) -> bool:
        return self.kind is not AutoSubmittedKind.NONE


_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_AUTOREPLY_FLAGS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")


def classify_auto_submission(message: Message, read_header: ReadHeader) -> AutoSubmission:
    """Classify a parsed message; bounces win over auto-replies (a DSN is both)."""
    if _is_delivery_report(message):
        failed = _dsn_failed_recipients(message, read_header)
        return AutoSubmission(
            AutoSubmittedKind.BOUNCE,
            "multipart/report; report-type=delivery-status",
            failed,
            _original_message_ids(message, read_header),
        )
    x_failed = read_header(message, "X-Failed-Recipients")
    if x_failed:
        found = [address.lower() for address in address_tokens(x_failed, colon_separates=False)]
        failed = tuple(dict.fromkeys(found))[:MAX_FAILED_RECIPIENTS]
        return AutoSubmission(
            AutoSubmittedKind.BOUNCE,
            "X-Failed-Recipients",
            failed,
            _original_message_ids(message, read_header),
        )

    auto_submitted = read_header(message, "Auto-Submitted").strip()
    if auto_submitted and auto_submitted.split(";")[0].strip().lower() != "no":
        return AutoSubmission(AutoSubmittedKind.AUTO_REPLY, f"Auto-Submitted: {auto_submitted}")
    for flag in _AUTOREPLY_FLAGS:
        value = read_header(message, flag).strip()
        if value and value.lower() not in ("no", "false", "0"):
            return AutoSubmission(AutoSubmittedKind.AUTO_REPLY, f"{flag}: {value}")
    precedence = read_header(message, "Precedence").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return AutoSubmission(AutoSubmittedKind.AUTO_REPLY, f"Precedence: {precedence}")
    return AutoSubmission()


def _is_delivery_report(message: Message) -> bool:
    for part in _walk_shallow(message):
        try:
            if part.get_content_type() != "multipart/report":
                continue
            report_type = str(part.get_param("report-type") or "").lower()
        except Exception:  # noqa: S112 — a garbled Content-Type is simply not a report
            continue
        if report_type == "delivery-status":
            return True
    return False


def _walk_shallow(message: Message, depth: int = 0):
    """Parts of this message, without entering forwarded messages (their DSNs are not ours)."""
    yield message
    if depth > 5 or not message.is_multipart():
        return
    if message.get_content_type() == "message/rfc822":
        return
    payload = message.get_payload()
    if isinstance(payload, list):
        for part in payload:
            if isinstance(part, Message):
                yield from _walk_shallow(part, depth + 1)


def _dsn_failed_recipients(message: Message, read_header: ReadHeader) -> tuple[str, ...]:
    """Final-Recipient of every per-recipient block whose action failed (RFC 3464)."""
    failed: list[str] = []
    for part in _walk_shallow(message):
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _status_blocks(part):
            action = read_header(block, "Action").strip().lower()
            status = read_header(block, "Status").strip()
            if action != "failed" and not (not action and status.startswith("5")):
                continue
            recipient = read_header(block, "Final-Recipient") or read_header(
                block, "Original-Recipient"
            )
            # "rfc822; someone@example.com" — the type prefix is optional in the wild.
            found = address_tokens(recipient.split(";", 1)[-1], colon_separates=False)
            failed.extend(address.strip().lower() for address in found)
    return tuple(dict.fromkeys(failed))[:MAX_FAILED_RECIPIENTS]


def _status_blocks(part: Message) -> list[Message]:
    """The header blocks of a delivery-status part, parsed by ``email`` or by hand."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    # Encoded (base64) status parts are left as a string by the parser.
    raw = part.get_payload(decode=True) or b""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
    blocks: list[Message] = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        block = Message()
        for line in chunk.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip():
                block[name.strip()] = value.strip()
        blocks.append(block)
    return blocks


_ORIGINAL_ID_HEADERS = ("X-Original-Message-ID", "Original-Message-ID", "X-Original-Message-Id")
_ORIGINAL_HEADER_TYPES = ("text/rfc822-headers", "message/global-headers")
_ORIGINAL_MESSAGE_TYPES = ("message/rfc822", "message/global")
# A copy of the original quoted in the bounce's text (Exim: "This is a copy of the message").
_QUOTED_MESSAGE_ID = re.compile(r"^[ \t]*Message-ID:[ \t]*(<[^<>\s]{1,998}>)", re.I | re.M)


def _original_message_ids(message: Message, read_header: ReadHeader) -> tuple[str, ...]:
    """Message-IDs of the bounced mail: its returned copy or headers, or a header naming it.

    Where a bounce carries them varies by MTA: a ``message/rfc822`` or
    ``text/rfc822-headers`` part (RFC 3462), a copy pasted into the text, or an
    ``X-Original-Message-ID``-like header. ``In-Reply-To``/``References`` are
    read by the parser already. These are claims, checked against sent mail.
    """
    found: list[str] = []
    for name in _ORIGINAL_ID_HEADERS:
        found += message_ids_in(read_header(message, name))
    for part in _walk_shallow(message):
        try:
            content_type = part.get_content_type()
            if content_type in _ORIGINAL_MESSAGE_TYPES:
                payload = part.get_payload()
                for inner in payload if isinstance(payload, list) else []:
                    if isinstance(inner, Message):
                        found += message_ids_in(read_header(inner, "Message-ID"))
            elif content_type in _ORIGINAL_HEADER_TYPES or content_type == "text/plain":
                text = _part_text(part)
                found += message_ids_in(" ".join(_QUOTED_MESSAGE_ID.findall(text)))
        except Exception:  # noqa: S112 — a garbled part names nothing
            continue
    return tuple(dict.fromkeys(found))[:MAX_ORIGINAL_MESSAGE_IDS]


def _part_text(part: Message) -> str:
    """A leaf part's text, decoded leniently and capped (it is only searched for ids)."""
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload[:MAX_SCANNED_TEXT_CHARS].decode("utf-8", errors="replace")
    raw = part.get_payload()
    return raw[:MAX_SCANNED_TEXT_CHARS] if isinstance(raw, str) else ""
