"""Fan-out of committed events to WebSocket clients through the channel layer."""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from comptoir.conversations.models import Event
from comptoir.realtime.groups import agent_group, brand_inbox_group, customer_group

logger = logging.getLogger(__name__)


def agent_frame(event: Event) -> dict[str, Any]:
    return {
        "type": "event",
        "id": event.pk,
        "kind": event.kind,
        "conversation_id": event.conversation_id,
        "payload": event.payload,
    }


def customer_frame(event: Event) -> dict[str, Any]:
    return {
        "type": "event",
        "id": event.pk,
        "kind": event.kind,
        "conversation_id": event.conversation_id,
        "payload": event.customer_payload,
    }


def publish_event(event: Event, *, notify_agent_id: int | None = None) -> None:
    """Send a committed event to its groups.

    A failure here loses no data: the event is in the log and clients catch up
    from their last event id when they reconnect.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    sends: list[tuple[str, dict[str, Any]]] = [
        (brand_inbox_group(event.brand_id), agent_frame(event))
    ]
    if notify_agent_id is not None:
        sends.append((agent_group(notify_agent_id), agent_frame(event)))
    if event.customer_payload is not None and event.customer_id is not None:
        sends.append((customer_group(event.customer_id), customer_frame(event)))
    try:
        async_to_sync(_send_all)(layer, sends)
    except Exception:
        logger.exception("could not publish event %s; clients will catch up on resume", event.pk)


async def _send_all(layer, sends: list[tuple[str, dict[str, Any]]]) -> None:
    for group, frame in sends:
        await layer.group_send(group, {"type": "comptoir.event", "frame": frame})
