"""Callback requests: a customer asks to be called back; agents call, close or cancel them.

A request is also the customer's message (in the timeline, the inbox and
search); placing the call it asks for is click-to-call (``click_to_call``),
and a call placed for it closes it when it ends (``close_callbacks_of_ended_call``).
Each change appends a "callback.*" event that refreshes the console's queue.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from comptoir.conversations.actions import add_note
from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.customers.actions import link_identity
from comptoir.customers.identities import normalise_phone
from comptoir.customers.models import Customer, IdentityKind
from comptoir.events import kinds
from comptoir.events.actors import CUSTOMER, SYSTEM, Actor
from comptoir.events.kinds import EventKind
from comptoir.events.log import append_event
from comptoir.privacy.cards import mask_card_numbers
from comptoir.tenancy.models import Brand, Membership
from comptoir.touchpoints.phone.formatting import callback_request_text
from comptoir.touchpoints.phone.models import (
    OPEN_CALLBACK_STATUSES,
    Call,
    CallbackRequest,
    CallbackStatus,
    CallStatus,
)


class CallStateError(ValueError):
    """The requested change does not apply (e.g. a callback that is already done)."""


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
        callback_changed(callback, kinds.CALLBACK_REQUESTED, CUSTOMER)
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


def callback_changed(callback: CallbackRequest, kind: EventKind, actor: Actor) -> None:
    """Append the "callback.*" event ``kind`` for ``callback`` as it now is."""
    append_event(
        callback.brand_id,
        kind,
        _callback_payload(callback),
        actor=actor,
        conversation=callback.conversation,
        customer=callback.customer,
    )


def locked_callback(callback: CallbackRequest) -> CallbackRequest:
    """``callback`` read again under its row lock (inside a transaction)."""
    return (
        CallbackRequest.objects.select_for_update(of=("self",))
        .select_related("conversation", "customer")
        .get(pk=callback.pk)
    )


def close_callback(agent: Membership, callback: CallbackRequest, status: str) -> CallbackRequest:
    """Mark a callback request done or cancelled; a note in the timeline says who and how."""
    if status not in (CallbackStatus.DONE, CallbackStatus.CANCELLED):
        raise CallStateError(f"cannot close a callback request as {status!r}")
    with transaction.atomic():
        callback = locked_callback(callback)
        if callback.status not in OPEN_CALLBACK_STATUSES:
            raise CallStateError("this callback request is already closed")
        callback.status = status
        callback.handled_by = agent
        callback.handled_at = timezone.now()
        callback.save(update_fields=["status", "handled_by", "handled_at"])
        callback_changed(callback, kinds.CALLBACK_UPDATED, Actor.agent(agent))
        with translation.override(callback.brand.default_language):
            note = (
                gettext("Callback to %(number)s done.")
                if status == CallbackStatus.DONE
                else gettext("Callback to %(number)s cancelled.")
            ) % {"number": callback.number}
        add_note(agent, callback.conversation, note)
    return callback


def close_callbacks_of_ended_call(call: Call) -> None:
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
        callback_changed(callback, kinds.CALLBACK_UPDATED, SYSTEM)


def customer_phone_claims(customer: Customer) -> list[IdentityClaim]:
    """Claims that recognise exactly ``customer`` (their own identities), strongest first."""
    return [
        IdentityClaim(identity.kind, identity.value, identity.verified)
        for identity in customer.identities.order_by("-verified", "pk")
    ]
