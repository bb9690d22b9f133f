"""Calls the console places: to a number an agent picked, or for a customer's callback request.

Both are recorded through the same state machine as the calls providers
report (``calls.record_call_event``), so the provider's later reports move them on.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from comptoir.conversations.models import Direction
from comptoir.customers.identities import normalise_phone
from comptoir.events import kinds
from comptoir.events.actors import Actor
from comptoir.tenancy.models import Brand, Membership
from comptoir.touchpoints.phone.callbacks import CallStateError, callback_changed, locked_callback
from comptoir.touchpoints.phone.calls import record_call_event
from comptoir.touchpoints.phone.events import CallEvent, CallEventKind
from comptoir.touchpoints.phone.models import (
    OPEN_CALLBACK_STATUSES,
    TERMINAL_STATUSES,
    Call,
    CallbackRequest,
    PhoneLine,
)

# A provider answers a click-to-call within seconds; a claim this old is a dead request.
DIALING_TIMEOUT = timedelta(minutes=1)


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
        callback = locked_callback(callback)
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
        callback = locked_callback(callback)
        callback.call = call
        callback.handled_by = agent
        callback.save(update_fields=["call", "handled_by"])
        callback_changed(callback, kinds.CALLBACK_UPDATED, Actor.agent(agent))
    return call
