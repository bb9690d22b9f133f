"""Appending to the event log: the one way state changes are told to clients and listeners."""

import json
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from comptoir.events.actors import Actor
from comptoir.events.kinds import EventKind
from comptoir.events.listeners import dispatch
from comptoir.events.models import Event


def append_event(
    brand: Any,
    kind: EventKind,
    payload: dict[str, Any],
    *,
    actor: Actor,
    conversation: Any = None,
    customer: Any = None,
    customer_payload: dict[str, Any] | None = None,
    notify_agent_id: int | None = None,
) -> Event:
    """Append an event in the current transaction; publish it and run its listeners after commit.

    ``brand`` is a Brand or its id. ``customer_payload`` is what the customer's own
    widget may receive; leave it None for anything the customer must not see
    (internal notes, assignments). ``notify_agent_id`` also sends the event to
    that agent's personal group.
    """
    if settings.EVENTS_VALIDATE_PAYLOADS:
        validate_payloads(kind, payload, customer_payload)
    event = Event(
        brand_id=brand if isinstance(brand, int) else brand.pk,
        kind=kind.name,
        conversation=conversation,
        customer=customer,
        actor_kind=actor.kind,
        actor_id=actor.membership_id,
        payload=payload,
        customer_payload=customer_payload,
        created_at=timezone.now(),
    )
    insert_event(event)
    if kind.published:
        from comptoir.realtime.publish import publish_event

        transaction.on_commit(lambda: publish_event(event, notify_agent_id=notify_agent_id))
    dispatch(event)
    return event


def validate_payloads(
    kind: EventKind, payload: dict[str, Any], customer_payload: dict[str, Any] | None
) -> None:
    """Raise pydantic's ValidationError when a payload does not match its kind's schema."""
    kind.payload.model_validate(payload)
    if customer_payload is not None:
        if kind.customer_payload is None:
            raise ValueError(f"{kind.name} events are never shown to customers")
        kind.customer_payload.model_validate(customer_payload)


# The columns the raw INSERT writes: a test compares them with the model's fields, so
# that a new non-null column fails a test instead of every inbound message.
EVENT_COLUMNS = (
    "brand_id",
    "kind",
    "conversation_id",
    "customer_id",
    "actor_kind",
    "actor_id",
    "payload",
    "customer_payload",
    "created_at",
)
_INSERT_EVENT = (
    f"INSERT INTO {Event._meta.db_table} ({', '.join(EVENT_COLUMNS)}) "  # noqa: S608 (constants)
    f"VALUES ({', '.join(['%s'] * len(EVENT_COLUMNS))}) RETURNING id"
)


def insert_event(event: Event) -> None:
    """INSERT an event built in memory and give it its id (the resume position).

    Raw SQL: the ORM's save costs a third more on ingest, the hottest path.
    """
    customer_payload = event.customer_payload
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_EVENT,
            [
                event.brand_id,
                event.kind,
                event.conversation_id,
                event.customer_id,
                event.actor_kind,
                event.actor_id,
                json.dumps(event.payload),
                None if customer_payload is None else json.dumps(customer_payload),
                connection.ops.adapt_datetimefield_value(event.created_at),
            ],
        )
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias
