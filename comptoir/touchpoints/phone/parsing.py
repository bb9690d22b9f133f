"""What each webhook format says, as a ``CallEvent``; bad input raises ``BadCallEvent``."""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from comptoir.conversations.models import Direction
from comptoir.customers.identities import InvalidIdentity, normalise_phone
from comptoir.privacy.cards import shown_in_error
from comptoir.tenancy.models import Brand
from comptoir.touchpoints.phone.events import CallEvent, CallEventKind
from comptoir.touchpoints.phone.models import CallStatus, Provider

MAX_TEXT = 50_000
_url_validator = URLValidator(schemes=["http", "https"])


class BadCallEvent(ValueError):
    """The report cannot be applied; the message says which field and why (HTTP 400).

    Values are quoted through ``shown_in_error`` (cut short, card numbers
    masked): the message is logged and answered.
    """


def _number(value: Any, field: str, brand: Brand) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadCallEvent(f"{field!r} is required (an E.164 phone number)")
    try:
        return normalise_phone(value, brand.default_region)
    except InvalidIdentity:
        raise BadCallEvent(
            f"{field!r} is not a valid phone number: {shown_in_error(value, 40)}"
        ) from None


def _url(value: Any, field: str) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or len(value) > 500:
        raise BadCallEvent(f"{field!r} must be an http(s) URL of at most 500 characters")
    try:
        _url_validator(value)
    except ValidationError:
        raise BadCallEvent(f"{field!r} must be an http(s) URL") from None
    return value


def _text(value: Any, field: str, limit: int) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise BadCallEvent(f"{field!r} must be a string")
    if len(value) > limit:
        raise BadCallEvent(f"{field!r} is longer than {limit} characters")
    return value.strip()


def _direction(value: Any) -> str:
    value = value or "inbound"
    if value in ("inbound", "in"):
        return Direction.INBOUND
    if value in ("outbound", "out"):
        return Direction.OUTBOUND
    raise BadCallEvent("'direction' must be 'inbound' or 'outbound'")


def parse_generic_event(data: Any, brand: Brand) -> CallEvent:
    """The documented generic JSON format (see the README's phone section)."""
    if not isinstance(data, dict):
        raise BadCallEvent("the body must be a JSON object")
    call_id = _text(data.get("call_id"), "call_id", 128)
    if not call_id:
        raise BadCallEvent("'call_id' is required")
    kind = data.get("event")
    if kind not in CallEventKind.values:
        raise BadCallEvent(f"'event' must be one of {', '.join(CallEventKind.values)}")
    raw_time = data.get("timestamp")
    occurred_at = parse_datetime(raw_time) if isinstance(raw_time, str) else None
    if occurred_at is None or timezone.is_naive(occurred_at):
        raise BadCallEvent("'timestamp' is required: ISO 8601 with a UTC offset")
    status = data.get("status") or ""
    finals = (CallStatus.COMPLETED, CallStatus.NO_ANSWER, CallStatus.BUSY, CallStatus.FAILED)
    if status and status not in finals:
        raise BadCallEvent("'status' must be completed, no-answer, busy or failed")
    talk = data.get("talk_seconds")
    if talk is not None and (not isinstance(talk, int) or isinstance(talk, bool) or talk < 0):
        raise BadCallEvent("'talk_seconds' must be a non-negative integer")
    return CallEvent(
        provider=Provider.GENERIC,
        call_id=call_id,
        kind=kind,
        occurred_at=occurred_at,
        event_id=_text(data.get("event_id"), "event_id", 150),
        direction=_direction(data.get("direction")),
        from_number=_number(data.get("from"), "from", brand),
        to_number=_number(data.get("to"), "to", brand),
        status=status,
        agent=_text(data.get("agent"), "agent", 254),
        recording_url=_url(data.get("recording_url"), "recording_url"),
        transcript=_text(data.get("transcript"), "transcript", MAX_TEXT),
        caller_name=_text(data.get("caller_name"), "caller_name", 200),
        talk_seconds=talk,
    )


# Twilio's CallStatus → (event kind, final status of an "ended" event)
_TWILIO_STATUSES = {
    "queued": (CallEventKind.QUEUED, ""),
    "initiated": (CallEventKind.QUEUED, ""),
    "ringing": (CallEventKind.RINGING, ""),
    "in-progress": (CallEventKind.ANSWERED, ""),
    "answered": (CallEventKind.ANSWERED, ""),
    "completed": (CallEventKind.ENDED, CallStatus.COMPLETED),
    "busy": (CallEventKind.ENDED, CallStatus.BUSY),
    "failed": (CallEventKind.ENDED, CallStatus.FAILED),
    "no-answer": (CallEventKind.ENDED, CallStatus.NO_ANSWER),
    "canceled": (CallEventKind.ENDED, CallStatus.NO_ANSWER),
}


def _twilio_time(value: str) -> datetime:
    """Twilio's ``Timestamp`` (RFC 2822); its absence means now."""
    if value:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise BadCallEvent(
                f"'Timestamp' is not an RFC 2822 date: {shown_in_error(value, 60)}"
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return timezone.now()


def parse_twilio_event(params: dict[str, str], brand: Brand) -> CallEvent:
    """A Twilio voice status, recording or transcription callback (form fields)."""
    call_id = params.get("CallSid", "").strip()
    if not call_id or len(call_id) > 128:
        raise BadCallEvent("'CallSid' is required")
    direction = (
        Direction.OUTBOUND
        if params.get("Direction", "inbound").startswith("outbound")
        else Direction.INBOUND
    )
    status = params.get("CallStatus", "")
    talk = None
    if params.get("TranscriptionText") or params.get("TranscriptionSid"):
        kind, final = CallEventKind.TRANSCRIPT, ""
        event_id = f"transcript:{params.get('TranscriptionSid', '')}"
    elif params.get("RecordingUrl"):
        kind, final = CallEventKind.RECORDING, ""
        event_id = f"recording:{params.get('RecordingSid', '')}"
    elif status in _TWILIO_STATUSES:
        kind, final = _TWILIO_STATUSES[status]
        event_id = f"status:{status}"
        if kind == CallEventKind.ENDED and params.get("CallDuration", "").isdigit():
            talk = int(params["CallDuration"]) if final == CallStatus.COMPLETED else 0
    else:
        raise BadCallEvent(f"'CallStatus' is missing or unknown: {shown_in_error(status, 30)}")
    return CallEvent(
        provider=Provider.TWILIO,
        call_id=call_id,
        kind=kind,
        occurred_at=_twilio_time(params.get("Timestamp", "")),
        event_id=event_id,
        direction=direction,
        from_number=_number(params.get("From"), "From", brand),
        to_number=_number(params.get("To"), "To", brand),
        status=final,
        recording_url=_url(params.get("RecordingUrl"), "RecordingUrl"),
        transcript=_text(params.get("TranscriptionText"), "TranscriptionText", MAX_TEXT),
        caller_name=_text(params.get("CallerName"), "CallerName", 200),
        talk_seconds=talk,
    )
