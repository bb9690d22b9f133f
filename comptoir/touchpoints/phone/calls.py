"""The call state machine: every provider report about a call goes through ``record_call_event``.

Every webhook adapter turns what its provider posts into a ``CallEvent`` and
calls ``record_call_event``; click-to-call records the calls it places the
same way. Each report is applied in one transaction that appends events,
which refresh the console live once committed. The call's timeline lines are
written by the conversations' voice actions (``comptoir.conversations.voice``).
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import translation

from comptoir.conversations.inbound import IdentityClaim
from comptoir.conversations.ingest import ThreadChanged, open_contact
from comptoir.conversations.models import Channel, Contact, Conversation, Direction
from comptoir.conversations.payloads import (
    message_event_payload,
)
from comptoir.conversations.voice import add_summary_line, record_transcript, update_summary_line
from comptoir.customers.models import IdentityKind
from comptoir.events import kinds
from comptoir.events.actors import SYSTEM
from comptoir.events.log import append_event
from comptoir.privacy.cards import mask_card_numbers
from comptoir.routing.assignment import agent_named, give_to_answering_agent
from comptoir.tenancy.models import Brand, Membership
from comptoir.touchpoints.phone.callbacks import close_callbacks_of_ended_call
from comptoir.touchpoints.phone.events import CallEvent, CallEventKind
from comptoir.touchpoints.phone.formatting import call_summary_text
from comptoir.touchpoints.phone.models import (
    STATUS_RANK,
    TERMINAL_STATUSES,
    Call,
    CallEventRecord,
    CallStatus,
    PhoneLine,
)

logger = logging.getLogger(__name__)

MAX_TRANSCRIPT_LENGTH = 50_000
_FINAL_STATUSES = {
    CallStatus.COMPLETED,
    CallStatus.NO_ANSWER,
    CallStatus.BUSY,
    CallStatus.FAILED,
}


@dataclass(frozen=True)
class CallEventResult:
    call: Call
    # False for a replayed event: nothing changed.
    applied: bool


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
    call.summary_message = add_summary_line(
        contact,
        text,
        external_id=f"call:{event.provider}:{event.call_id}",
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
            update_summary_line(summary, call_summary_text(call))
    payload = _call_payload(call)
    if conversation_created and summary is not None:
        created = message_event_payload(summary, [], conversation)
        append_event(
            call.brand_id,
            kinds.CONVERSATION_CREATED,
            created,
            actor=SYSTEM,
            conversation=conversation,
            customer=conversation.customer,
        )
    append_event(
        call.brand_id,
        kinds.CALL_UPDATED,
        payload,
        actor=SYSTEM,
        conversation=conversation,
        customer=conversation.customer,
    )
    if call.status in TERMINAL_STATUSES:
        close_callbacks_of_ended_call(call)


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


def _store_transcript(call: Call, event: CallEvent) -> None:
    """A transcript becomes a customer message on the call's contact (searchable, in the timeline).

    What the customer said: a voicemail, or the call as the provider
    transcribed it. A later transcript of the same call replaces the text of the first.
    """
    if event.kind != CallEventKind.TRANSCRIPT or not call.transcript:
        return
    record_transcript(
        call.contact,
        call.transcript,
        external_id=f"call:{call.provider}:{call.provider_call_id}:transcript",
        created_at=call.ended_at or event.occurred_at,
    )
