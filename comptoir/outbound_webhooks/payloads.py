"""The body of a delivery: the event as its kind documents it, nothing more.

``data`` keeps only the fields of the kind's schema (``events.kinds``), so a key
an action stores for consoles without documenting it never leaves; every text
goes through card-number masking once more (messages are masked at ingest, but
an integrator's copy must not depend on every writer having done so).
"""

import json
from typing import Any

from comptoir.events.kinds import KINDS
from comptoir.events.models import Event
from comptoir.privacy.cards import mask_card_numbers


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_card_numbers(value)
    if isinstance(value, list):
        return [_masked(item) for item in value]
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    return value


def documented_data(event: Event) -> dict[str, Any]:
    """The event's payload cut to its kind's documented fields, card numbers masked."""
    kind = KINDS.get(event.kind)
    payload = event.payload or {}
    if kind is not None:
        payload = {key: value for key, value in payload.items() if key in kind.payload.model_fields}
    return _masked(payload)


def delivery_body(delivery_uuid: str, event: Event, brand_slug: str) -> bytes:
    """The same bytes at every attempt of a delivery (only the signature's time changes)."""
    return json.dumps(
        {
            "id": delivery_uuid,
            "kind": event.kind,
            "event_id": event.pk,
            "created_at": event.created_at.isoformat(),
            "brand": brand_slug,
            "data": documented_data(event),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
