"""The event log: every state change appends an event, published once committed."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from comptoir.conversations.ingest_sql import insert_event
from comptoir.conversations.models import Conversation, Event
from comptoir.customers.models import Customer
from comptoir.tenancy.models import Brand


def append_event(
    brand: Brand | int,
    kind: str,
    payload: dict[str, Any],
    *,
    conversation: Conversation | None = None,
    customer: Customer | None = None,
    customer_payload: dict[str, Any] | None = None,
    notify_agent_id: int | None = None,
) -> Event:
    """Append an event in the current transaction and publish it after commit.

    ``customer_payload`` is what the customer's own widget may receive; leave it
    None for anything the customer must not see (internal notes, assignments).
    ``notify_agent_id`` also sends the event to that agent's personal group.
    """
    brand_id = brand if isinstance(brand, int) else brand.pk
    event = Event(
        brand_id=brand_id,
        kind=kind,
        conversation=conversation,
        customer=customer,
        payload=payload,
        customer_payload=customer_payload,
        created_at=timezone.now(),
    )
    insert_event(event)
    from comptoir.realtime.publish import publish_event

    transaction.on_commit(lambda: publish_event(event, notify_agent_id=notify_agent_id))
    return event
