"""Fan-out of committed events to WebSocket clients through the channel layer."""

import asyncio
import atexit
import concurrent.futures
import logging
import threading
from functools import partial
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer

from comptoir.events.models import Event
from comptoir.realtime.groups import agent_group, brand_inbox_group, customer_group

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT = 5  # seconds a process may take, when it exits, to hand over its last events
_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()
_pending: set[concurrent.futures.Future] = set()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """One event loop, in a daemon thread, for publications made outside the ASGI server."""
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(
                target=_loop.run_forever, name="comptoir-publisher", daemon=True
            ).start()
    return _loop


def agent_frame(event: Event) -> dict[str, Any]:
    """What agents receive: the event, and who caused it (an agent's membership id, or not)."""
    return {
        "type": "event",
        "id": event.pk,
        "kind": event.kind,
        "conversation_id": event.conversation_id,
        "actor": {"kind": event.actor_kind, "membership_id": event.actor_id},
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
        if getattr(SyncToAsync.threadlocal, "main_event_loop", None) is not None:
            # Inside the ASGI server: send from its loop, where in-memory groups live.
            async_to_sync(_send_all)(layer, sends)
        else:
            # A script, command or worker: hand the sends to one long-lived loop
            # instead of async_to_sync starting a thread, an event loop and a Redis
            # connection per event; the action does not wait for the fan-out.
            future = asyncio.run_coroutine_threadsafe(_send_all(layer, sends), _publisher_loop())
            _pending.add(future)
            future.add_done_callback(partial(_publication_done, event.pk))
    except Exception:
        logger.exception("could not publish event %s; clients will catch up on resume", event.pk)


def _publication_done(event_id: int, future: concurrent.futures.Future) -> None:
    _pending.discard(future)
    if not future.cancelled() and future.exception() is not None:
        logger.error(
            "could not publish event %s; clients will catch up on resume",
            event_id,
            exc_info=future.exception(),
        )


@atexit.register
def _drain_publications() -> None:
    """Let a command that ends right after its last action still deliver its events."""
    concurrent.futures.wait(list(_pending), timeout=PUBLISH_TIMEOUT)


async def _send_all(layer, sends: list[tuple[str, dict[str, Any]]]) -> None:
    for group, frame in sends:
        await layer.group_send(group, {"type": "comptoir.event", "frame": frame})
