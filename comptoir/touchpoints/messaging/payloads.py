"""What a provider's webhook payload says, once parsed: channel-neutral records.

Each provider module (``whatsapp``, ``messenger``) turns its JSON into a
``WebhookBatch``; ``receiving`` stores it. A malformed item becomes a
``SkippedItem`` with the reason instead of failing the whole batch, so one bad
message in a delivery never drops the others.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils import timezone


@dataclass(frozen=True)
class MediaRef:
    """An attachment the provider holds: a WhatsApp media id or a Messenger URL."""

    kind: str  # image, document, audio, video, sticker, file
    media_id: str = ""
    url: str = ""
    content_type: str = ""
    filename: str = ""


@dataclass(frozen=True)
class ParsedMessage:
    account_id: str  # WhatsApp phone_number_id or Messenger page id
    external_id: str  # wamid / mid: a redelivery carries the same one
    sender_id: str  # WhatsApp wa_id or Messenger PSID
    text: str
    display_name: str = ""
    media: tuple[MediaRef, ...] = ()
    received_at: datetime | None = None
    # The id of the quick reply the customer tapped (one Comptoir sent), else blank.
    reply_id: str = ""


@dataclass(frozen=True)
class ParsedStatus:
    """The provider's news about one message we sent (by its provider id)."""

    account_id: str
    provider_id: str
    status: str  # sent, delivered, read, failed
    error: str = ""


@dataclass(frozen=True)
class ParsedWatermark:
    """Messenger: every message sent to ``recipient_id`` before ``watermark`` is ``status``."""

    account_id: str
    recipient_id: str
    watermark: datetime
    status: str  # delivered, read


@dataclass(frozen=True)
class SkippedItem:
    where: str  # e.g. "entry[0].changes[0].value.messages[1]"
    reason: str


@dataclass
class WebhookBatch:
    messages: list[ParsedMessage] = field(default_factory=list)
    statuses: list[ParsedStatus] = field(default_factory=list)
    watermarks: list[ParsedWatermark] = field(default_factory=list)
    skipped: list[SkippedItem] = field(default_factory=list)


class MalformedPayload(ValueError):
    """The payload as a whole is not what the provider sends (HTTP 400)."""


def as_dict(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where}: expected an object")
    return value


def as_list(value: object, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{where}: expected a list")
    return value


def as_text(value: object, where: str, *, required: bool = True) -> str:
    """A string field (numbers accepted: ids sometimes arrive as JSON numbers)."""
    if isinstance(value, bool):
        raise MalformedPayload(f"{where}: expected a string")
    if isinstance(value, int | str):
        text = str(value).strip()
        if text or not required:
            return text
    elif value is None and not required:
        return ""
    raise MalformedPayload(f"{where}: missing or not a string")


def from_timestamp(value: object, *, milliseconds: bool = False) -> datetime | None:
    """A provider's Unix timestamp, never later than now (a clock ahead must not reorder)."""
    try:
        seconds = float(value) / (1000 if milliseconds else 1)  # type: ignore[arg-type]
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return min(moment, timezone.now())


def choices_fit(
    text: str, quick_replies: dict, *, text_max: int, count_max: int, title_max: int
) -> bool:
    """Whether a message and its quick replies fit a provider's limits (else: text alone)."""
    choices = quick_replies["choices"]
    return (
        len(text) <= text_max
        and len(choices) <= count_max
        and all(len(choice["title"]) <= title_max for choice in choices)
    )
