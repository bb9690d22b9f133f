"""State changes of calls and callback requests: the phone channel's write path.

Every webhook adapter turns what its provider posts into a ``CallEvent`` and
calls ``record_call_event``; the console's click-to-call and the callback queue
call the other actions here. Each action writes in one transaction and appends
events, which refresh the console live once committed.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from comptoir.conversations.actions import add_note
from comptoir.conversations.events import append_event
from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.conversations.ingest import ThreadChanged, ingest_message, open_contact
from comptoir.conversations.models import (
    AuthorKind,
    Channel,
    Contact,
    Conversation,
    Direction,
    Message,
)
from comptoir.conversations.payloads import conversation_summary, message_payload
from comptoir.customers.actions import link_identity
from comptoir.customers.identities import normalise_phone
from comptoir.customers.models import Customer, IdentityKind
from comptoir.privacy.cards import mask_card_numbers
from comptoir.routing.assignment import agent_named, give_to_answering_agent
from comptoir.tenancy.models import Brand, Membership
from comptoir.touchpoints.phone.events import CallEvent, CallEventKind
from comptoir.touchpoints.phone.models import (
    OPEN_CALLBACK_STATUSES,
    STATUS_RANK,
    TERMINAL_STATUSES,
    Call,
    CallbackRequest,
    CallbackStatus,
    CallEventRecord,
    CallStatus,
    PhoneLine,
)

logger = logging.getLogger(__name__)

MAX_TRANSCRIPT_LENGTH = 50_000
# A provider answers a click-to-call within seconds; a claim this old is a dead request.
DIALING_TIMEOUT = timedelta(minutes=1)
_FINAL_STATUSES = {
    CallStatus.COMPLETED,
    CallStatus.NO_ANSWER,
    CallStatus.BUSY,
    CallStatus.FAILED,
}


class CallStateError(ValueError):
    """The requested change does not apply (e.g. a callback that is already done)."""


@dataclass(frozen=True)
class CallEventResult:
    call: Call
    # False for a replayed event: nothing changed.
    applied: bool


def format_duration(seconds: int | None) -> str:
    """``42`` → ``0:42``, ``3725`` → ``1:02:05``."""
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def call_summary_text(call: Call) -> str:
    """The call as one line of text, in the active language (stored for search and the inbox).

    The console renders calls from the ``Call`` itself, in the agent's
    language; this text is what search and the inbox preview read.
    """
    if call.direction == Direction.INBOUND:
        text = gettext("Incoming call from %(number)s") % {"number": call.from_number}
    else:
        text = gettext("Outgoing call to %(number)s") % {"number": call.to_number}
    details = []
    if call.wait_seconds is not None:
        details.append(gettext("waited %(time)s") % {"time": format_duration(call.wait_seconds)})
    if call.talk_seconds:
        details.append(gettext("talked %(time)s") % {"time": format_duration(call.talk_seconds)})
    if call.status != CallStatus.COMPLETED:
        details.append(str(CallStatus(call.status).label).lower())
    if details:
        text = f"{text} — {', '.join(details)}"
    return text


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(int((end - start).total_seconds()), 0)


def record_call_event(
    brand: Brand,
    event: CallEvent,
    *,
    line: PhoneLine | None = None,
    agent: Membership | None = None,
) -> CallEventResult:
    """Apply one provider report to its call, idempotently and in any order.

    The first report of a call recognises the customer by their number (the
    caller's for inbound calls, the callee's for outbound ones), opens a phone
    contact on their open conversation (or a new one) and a timeline line. Later
    reports only move the call forward: timestamps fill in whatever order they
    arrive (an ``ended`` before its ``answered`` is fine), the status never goes
    back, and wait and talk time are recomputed from what is known. A replayed
    report (same ``event_id``) is a no-op. ``agent`` overrides ``event.agent``
    (click-to-call knows who called).
    """
    try:
        return _record_in_transaction(brand, event, line, agent)
    except (IntegrityError, ThreadChanged):
        # A concurrent report created the call, customer or event record first,
        # or the conversation was resolved meanwhile: once more sees it.
        return _record_in_transaction(brand, event, line, agent)


def _record_in_transaction(
    brand: Brand, event: CallEvent, line: PhoneLine | None, agent: Membership | None
) -> CallEventResult:
    with transaction.atomic():
        call = (
            Call.objects.select_for_update(of=("self",))
            .select_related(
                "brand", "contact__conversation__customer", "summary_message", "agent__user"
            )
            .filter(brand=brand, provider=event.provider, provider_call_id=event.call_id)
            .first()
        )
        conversation_created = False
        if call is None:
            call, conversation_created = _open_call(brand, event, line)
        key = (event.event_id or f"{event.kind}:{event.occurred_at.isoformat()}")[:200]
        if CallEventRecord.objects.filter(call=call, key=key).exists():
            return CallEventResult(call, applied=False)
        CallEventRecord.objects.create(
            call=call, key=key, kind=event.kind, occurred_at=event.occurred_at
        )
        agent = agent or agent_named(brand, event.agent)
        _apply(call, event, agent)
        _save_call(call, conversation_created)
        _store_transcript(call, event)
    if agent is not None and event.kind == CallEventKind.ANSWERED:
        give_to_answering_agent(call.contact.conversation, agent)
    return CallEventResult(call, applied=True)


def _open_call(brand: Brand, event: CallEvent, line: PhoneLine | None) -> tuple[Call, bool]:
    """A new call: the customer's phone contact, the call and its timeline line."""
    customer_number = event.from_number if event.direction == Direction.INBOUND else event.to_number
    opened = open_contact(
        brand,
        [IdentityClaim(IdentityKind.PHONE, customer_number)],
        Channel.PHONE,
        event.direction,
        started_at=event.occurred_at,
        display_name=event.caller_name,
    )
    contact = opened.contact
    call = Call(
        brand=brand,
        contact=contact,
        line=line,
        provider=event.provider,
        provider_call_id=event.call_id,
        direction=event.direction,
        from_number=event.from_number,
        to_number=event.to_number,
        status=CallStatus.QUEUED,
        queued_at=event.occurred_at,
    )
    with transaction.atomic():
        # A concurrent first report of the same call may win: IntegrityError, retried.
        call.save()
    with translation.override(brand.default_language):
        text = call_summary_text(call)
    call.summary_message = Message.objects.create(
        brand=brand,
        conversation=contact.conversation,
        contact=contact,
        direction=event.direction,
        author_kind=AuthorKind.SYSTEM,
        text=text,
        channel=Channel.PHONE,
        external_id=f"call:{event.provider}:{event.call_id}"[:255],
        created_at=event.occurred_at,
    )
    call.save(update_fields=["summary_message"])
    return call, opened.conversation_created


def _apply(call: Call, event: CallEvent, agent: Membership | None) -> None:
    """Merge the report into the call; order-independent."""
    at = event.occurred_at
    kind = event.kind
    new_status = {
        CallEventKind.QUEUED: CallStatus.QUEUED,
        CallEventKind.RINGING: CallStatus.RINGING,
        CallEventKind.ANSWERED: CallStatus.IN_PROGRESS,
        CallEventKind.VOICEMAIL: CallStatus.VOICEMAIL,
    }.get(kind)
    if kind in (CallEventKind.QUEUED, CallEventKind.RINGING):
        call.queued_at = min(call.queued_at or at, at)
    elif kind == CallEventKind.ANSWERED:
        call.answered_at = min(call.answered_at or at, at)
        if agent is not None and call.agent_id is None:
            call.agent = agent
    elif kind in (CallEventKind.ENDED, CallEventKind.VOICEMAIL):
        call.ended_at = call.ended_at or at
        if kind == CallEventKind.ENDED:
            final = event.status if event.status in _FINAL_STATUSES else ""
            new_status = final or (
                CallStatus.COMPLETED if call.answered_at else CallStatus.NO_ANSWER
            )
    if event.recording_url:
        call.recording_url = event.recording_url
    if event.transcript:
        call.transcript = mask_card_numbers(event.transcript)[:MAX_TRANSCRIPT_LENGTH]
    if event.talk_seconds is not None:
        call.talk_seconds = max(event.talk_seconds, 0)
    if new_status is not None and _moves_forward(call.status, new_status):
        call.status = new_status
    # An "answered" that arrives after the end of the call still says it was answered.
    if call.status == CallStatus.NO_ANSWER and call.answered_at is not None:
        call.status = CallStatus.COMPLETED
    _compute_times(call, provider_talk=event.talk_seconds)


def _moves_forward(current: str, new: str) -> bool:
    current_rank, new_rank = STATUS_RANK[CallStatus(current)], STATUS_RANK[CallStatus(new)]
    if current_rank == 3:
        # Ended: only a voicemail may refine how (the caller left a message).
        return new == CallStatus.VOICEMAIL and current != CallStatus.COMPLETED
    return new_rank > current_rank


def _compute_times(call: Call, *, provider_talk: int | None) -> None:
    """Wait: until answered (or until the caller gave up). Talk: answered to end."""
    start = call.queued_at
    if call.answered_at is not None and start is not None:
        start = min(start, call.answered_at)
    call.wait_seconds = _seconds(start, call.answered_at or call.ended_at)
    if provider_talk is None and call.answered_at is not None and call.ended_at is not None:
        call.talk_seconds = _seconds(call.answered_at, call.ended_at)


def _save_call(call: Call, conversation_created: bool) -> None:
    """Store the call, its contact and timeline line, and tell the console."""
    call.save()
    contact: Contact = call.contact
    contact.started_at = call.queued_at or contact.started_at
    contact.ended_at = call.ended_at
    contact.first_response_at = call.answered_at
    contact.save(update_fields=["started_at", "ended_at", "first_response_at"])
    conversation = contact.conversation
    if call.answered_at is not None and call.direction == Direction.INBOUND:
        # An answered call is the conversation's first response if nothing came before.
        Conversation.objects.filter(pk=conversation.pk, first_response_at__isnull=True).update(
            first_response_at=call.answered_at
        )
    summary = call.summary_message
    if summary is not None:
        with translation.override(call.brand.default_language):
            summary.text = call_summary_text(call)
        summary.save(update_fields=["text"])
    payload = _call_payload(call)
    if conversation_created and summary is not None:
        created = message_payload(summary, [])
        created["conversation"] = conversation_summary(conversation)
        append_event(
            call.brand_id,
            "conversation.created",
            created,
            conversation=conversation,
            customer=conversation.customer,
        )
    append_event(
        call.brand_id,
        "call.updated",
        payload,
        conversation=conversation,
        customer=conversation.customer,
    )
    if call.status in TERMINAL_STATUSES:
        _close_callbacks(call)


def _call_payload(call: Call) -> dict:
    conversation = call.contact.conversation
    return {
        "id": call.pk,
        "conversation_id": conversation.pk,
        "customer_id": conversation.customer_id,
        "contact_id": call.contact_id,
        "direction": call.direction,
        "status": call.status,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "agent_id": call.agent_id,
        "queued_at": call.queued_at.isoformat() if call.queued_at else None,
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "wait_seconds": call.wait_seconds,
        "talk_seconds": call.talk_seconds,
        "recording_url": call.recording_url,
    }


def _store_transcript(call: Call, event: CallEvent) -> Message | None:
    """A transcript becomes a customer message on the call's contact (searchable, in the timeline).

    Stored as an inbound customer message on the phone channel: what the
    customer said (a voicemail, or the call as the provider transcribed it).
    A later transcript of the same call replaces the text of the first.
    """
    if event.kind != CallEventKind.TRANSCRIPT or not call.transcript:
        return None
    conversation = call.contact.conversation
    external_id = f"call:{call.provider}:{call.provider_call_id}:transcript"[:255]
    message = Message.objects.filter(
        brand_id=call.brand_id, channel=Channel.PHONE, external_id=external_id
    ).first()
    if message is not None:
        message.text = call.transcript
        message.save(update_fields=["text"])
        kind = "message.updated"
    else:
        message = Message.objects.create(
            brand_id=call.brand_id,
            conversation=conversation,
            contact=call.contact,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CUSTOMER,
            text=call.transcript,
            channel=Channel.PHONE,
            external_id=external_id,
            created_at=call.ended_at or event.occurred_at,
        )
        kind = "message.created"
    payload = message_payload(message, [])
    payload["conversation"] = conversation_summary(conversation)
    append_event(
        call.brand_id, kind, payload, conversation=conversation, customer=conversation.customer
    )
    return message


# Click-to-call


def start_outbound_call(agent: Membership, to_number: str, line: PhoneLine | None = None) -> Call:
    """Place a call from the console through the line's provider and record it.

    The provider is asked first, outside any transaction (a network call);
    only a call the provider accepted is recorded, as an outbound contact on
    the customer's conversation. Raises InvalidIdentity for a bad number and
    CallProviderError when the provider refuses.
    """
    from comptoir.touchpoints.phone.providers import provider_for

    brand = agent.brand
    number = normalise_phone(to_number, brand.default_region)
    line = line or default_line(brand)
    if line is None:
        raise CallStateError("this brand has no phone line")
    provider_call_id = provider_for(line).start_call(line, agent, number)
    event = CallEvent(
        provider=line.provider,
        call_id=provider_call_id,
        kind=CallEventKind.QUEUED,
        occurred_at=timezone.now(),
        event_id="console:queued",
        direction=Direction.OUTBOUND,
        from_number=line.number,
        to_number=number,
    )
    call = record_call_event(brand, event, line=line, agent=agent).call
    if call.agent_id is None:
        Call.objects.filter(pk=call.pk).update(agent=agent)
        call.agent = agent
    return call


def default_line(brand: Brand) -> PhoneLine | None:
    return PhoneLine.objects.filter(brand=brand, is_active=True).order_by("pk").first()


# Callback requests


def callback_request_text(number: str, requested_for: datetime | None, note: str) -> str:
    """What the customer's request says in the timeline, in the active language."""
    if requested_for is None:
        text = gettext("Please call me back as soon as possible at %(number)s.") % {
            "number": number
        }
    else:
        when = timezone.localtime(requested_for).strftime("%Y-%m-%d %H:%M")
        text = gettext("Please call me back at %(number)s on %(when)s.") % {
            "number": number,
            "when": when,
        }
    if note:
        text = f"{text}\n{note}"
    return text


def request_callback(
    brand: Brand,
    claims: list[IdentityClaim],
    number: str,
    *,
    requested_for: datetime | None,
    note: str,
    channel: str,
    external_id: str,
    source: str,
    language: str = "",
    display_name: str = "",
) -> tuple[CallbackRequest, bool]:
    """A customer asks to be called back at ``number``, now (None) or at ``requested_for``.

    The request is also the customer's message on ``channel`` (so it is in the
    timeline, the inbox and search, and the widget shows it back); its
    ``external_id`` makes a retried request a no-op: ``(request, created)``.
    ``claims`` find the customer as for any message; the number is then linked
    to them if nobody else holds it (never merged silently). Raises
    InvalidIdentity for a number that is not a phone number.
    """
    number = normalise_phone(number, brand.default_region)
    note = mask_card_numbers(note.strip())[:500]
    now = timezone.now()
    when = requested_for if requested_for is not None and requested_for > now else None
    with translation.override(language or brand.default_language):
        text = callback_request_text(number, when, note)
    result = ingest_message(
        InboundMessage(
            brand=brand,
            channel=channel,
            external_id=external_id,
            text=text,
            identities=claims,
            display_name=display_name,
            language=language,
        )
    )
    message = result.message
    conversation = message.conversation
    customer = conversation.customer
    link_identity(customer, IdentityKind.PHONE, number)
    with transaction.atomic():
        existing = CallbackRequest.objects.filter(message=message).first()
        if existing is not None:
            return existing, False
        callback = CallbackRequest.objects.create(
            brand=brand,
            customer=customer,
            conversation=conversation,
            number=number,
            requested_for=when or now,
            status=CallbackStatus.SCHEDULED if when else CallbackStatus.REQUESTED,
            note=note,
            source=source,
            message=message,
        )
        _callback_changed(callback, "callback.requested")
    return callback, True


def _callback_payload(callback: CallbackRequest) -> dict:
    return {
        "id": callback.pk,
        "conversation_id": callback.conversation_id,
        "customer_id": callback.customer_id,
        "number": callback.number,
        "requested_for": callback.requested_for.isoformat(),
        "status": callback.status,
        "handled_by_id": callback.handled_by_id,
        "call_id": callback.call_id,
    }


def _callback_changed(callback: CallbackRequest, kind: str) -> None:
    append_event(
        callback.brand_id,
        kind,
        _callback_payload(callback),
        conversation=callback.conversation,
        customer=callback.customer,
    )


def _locked_callback(callback: CallbackRequest) -> CallbackRequest:
    return (
        CallbackRequest.objects.select_for_update(of=("self",))
        .select_related("conversation", "customer")
        .get(pk=callback.pk)
    )


def call_back_now(agent: Membership, callback: CallbackRequest) -> Call:
    """Place the call a callback request asks for (click-to-call) and tie it to the request.

    Refused while a call placed for it is still under way, or while another
    agent's click waits for the provider (``dialing_since``, claimed under the
    row lock before the provider is asked): the customer must not be rung
    twice. A failed call may be retried; a claim older than ``DIALING_TIMEOUT``
    (a worker that died mid-request) no longer blocks.
    """
    now = timezone.now()
    with transaction.atomic():
        callback = _locked_callback(callback)
        if callback.status not in OPEN_CALLBACK_STATUSES:
            raise CallStateError("this callback request is closed")
        if callback.call_id is not None and callback.call.status not in TERMINAL_STATUSES:
            raise CallStateError("a call for this callback request is already under way")
        if callback.dialing_since is not None and now - callback.dialing_since < DIALING_TIMEOUT:
            raise CallStateError("another agent is already calling this customer")
        callback.dialing_since = now
        callback.save(update_fields=["dialing_since"])
    try:
        call = start_outbound_call(agent, callback.number)
    finally:
        CallbackRequest.objects.filter(pk=callback.pk, dialing_since=now).update(dialing_since=None)
    with transaction.atomic():
        callback = _locked_callback(callback)
        callback.call = call
        callback.handled_by = agent
        callback.save(update_fields=["call", "handled_by"])
        _callback_changed(callback, "callback.updated")
    return call


def close_callback(agent: Membership, callback: CallbackRequest, status: str) -> CallbackRequest:
    """Mark a callback request done or cancelled; a note in the timeline says who and how."""
    if status not in (CallbackStatus.DONE, CallbackStatus.CANCELLED):
        raise CallStateError(f"cannot close a callback request as {status!r}")
    with transaction.atomic():
        callback = _locked_callback(callback)
        if callback.status not in OPEN_CALLBACK_STATUSES:
            raise CallStateError("this callback request is already closed")
        callback.status = status
        callback.handled_by = agent
        callback.handled_at = timezone.now()
        callback.save(update_fields=["status", "handled_by", "handled_at"])
        _callback_changed(callback, "callback.updated")
        with translation.override(callback.brand.default_language):
            note = (
                gettext("Callback to %(number)s done.")
                if status == CallbackStatus.DONE
                else gettext("Callback to %(number)s cancelled.")
            ) % {"number": callback.number}
        add_note(agent, callback.conversation, note)
    return callback


def _close_callbacks(call: Call) -> None:
    """A call placed for a callback request ended: the request is done, or failed (to retry)."""
    status = CallbackStatus.DONE if call.status == CallStatus.COMPLETED else CallbackStatus.FAILED
    for callback in CallbackRequest.objects.filter(
        call=call, status__in=OPEN_CALLBACK_STATUSES
    ).select_related("conversation", "customer"):
        if callback.status == status:
            continue
        callback.status = status
        callback.handled_at = timezone.now()
        callback.save(update_fields=["status", "handled_at"])
        _callback_changed(callback, "callback.updated")


def customer_phone_claims(customer: Customer) -> list[IdentityClaim]:
    """Claims that recognise exactly ``customer`` (their own identities), strongest first."""
    return [
        IdentityClaim(identity.kind, identity.value, identity.verified)
        for identity in customer.identities.order_by("-verified", "pk")
    ]
