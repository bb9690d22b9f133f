"""Fan-out of committed events to WebSocket clients through the channel layer.

Publishing is fire-and-forget: ``publish_event`` (called after commit) only hands
the publication to this process's publisher loop and returns, so a slow, frozen
or absent Redis never delays the request that caused the event (a widget POST, a
webhook). The publisher sends one publication at a time, each Redis call bounded
by ``REALTIME_REDIS_TIMEOUT``. A publication it cannot send (queue full, Redis
unreachable) is dropped, counted and logged; once Redis answers again it bumps
the ``lost`` counter, and every socket catches up from the event log.
"""

import asyncio
import atexit
import threading
import time
import weakref
from typing import Any

from asgiref.sync import SyncToAsync
from channels.layers import get_channel_layer
from django.conf import settings

from comptoir.events.models import Event
from comptoir.realtime.groups import agent_group, brand_inbox_group, customer_group
from comptoir.realtime.health import RateLimitedWarning, count, redis_outage
from comptoir.realtime.layer import with_timeout

PUBLISH_TIMEOUT = 5  # seconds a process may take, when it exits, to hand over its last events
PROBE_INTERVAL = 1.0  # while Redis is down, how often the publisher tries it again
BATCH = 200  # publications sent together, at most

_dropped_warning = RateLimitedWarning(
    "%d publications dropped (%s); sockets will catch up from the event log"
)


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
    """Send a committed event to its groups, without waiting for the channel layer.

    A publication that fails loses no data: the event is in the log, and sockets
    find out (sequence numbers, the ``lost`` counter) and catch up from it.
    """
    sends: list[tuple[str, dict[str, Any]]] = [
        (brand_inbox_group(event.brand_id), agent_frame(event))
    ]
    if notify_agent_id is not None:
        sends.append((agent_group(notify_agent_id), agent_frame(event)))
    if event.customer_payload is not None and event.customer_id is not None:
        sends.append((customer_group(event.customer_id), customer_frame(event)))
    publisher.submit(
        [(group, {"type": "comptoir.event", "frame": frame}, True) for group, frame in sends]
    )


def publish_message(group: str, message: dict[str, Any]) -> None:
    """Send a control message (e.g. ``comptoir.recheck``) to a group, fire-and-forget."""
    publisher.submit([(group, message, False)])


Send = tuple[str, dict[str, Any], bool]  # group, message, whether it carries a sequence


class Publisher:
    """This process's publications, in order, in batches: on a loop in a daemon thread
    for Redis; on the server's loop for the in-memory layer (its groups live there)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting = 0
        self.idle = threading.Event()
        self.idle.set()
        self.queues: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.runners: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.thread_loop: asyncio.AbstractEventLoop | None = None
        self.down_until = 0.0
        self.owe_catch_up = False

    def submit(self, sends: list[Send]) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        with self.lock:
            full = self.waiting >= settings.REALTIME_PUBLISH_QUEUE
            if full:
                self.dropped("publisher queue full", metric_reason="queue")
            else:
                self.waiting += 1
                self.idle.clear()
        loop = self.loop_for(layer)
        # A dropped publication still wakes the publisher: it reports the loss.
        loop.call_soon_threadsafe(self.enqueue, loop, layer, None if full else sends)

    def loop_for(self, layer: Any) -> asyncio.AbstractEventLoop:
        # Redis: a loop of its own, whose few round trips per batch do not wait for
        # the turns of a server loop busy with hundreds of sockets and requests.
        # In-memory: the server's loop, where its groups live.
        if not hasattr(layer, "hosts"):
            main_loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
            if main_loop is not None and main_loop.is_running():
                return main_loop
            try:
                return asyncio.get_running_loop()
            except RuntimeError:
                pass
        with self.lock:
            if self.thread_loop is None:
                self.thread_loop = asyncio.new_event_loop()
                threading.Thread(
                    target=self.thread_loop.run_forever, name="comptoir-publisher", daemon=True
                ).start()
            return self.thread_loop

    def enqueue(
        self, loop: asyncio.AbstractEventLoop, layer: Any, sends: list[Send] | None
    ) -> None:
        queue = self.queues.get(loop)
        if queue is None or self.runners[loop].done():
            queue = self.queues[loop] = asyncio.Queue()
            self.runners[loop] = loop.create_task(self.run(queue, layer))
        if sends is not None:
            queue.put_nowait(sends)

    async def run(self, queue: asyncio.Queue, layer: Any) -> None:
        while True:
            if self.owe_catch_up:
                # Nothing more may come to carry the news: tell sockets once Redis answers.
                try:
                    first = await asyncio.wait_for(queue.get(), PROBE_INTERVAL)
                except TimeoutError:
                    await self.settle_lost(layer)
                    continue
            else:
                first = await queue.get()
            # Whatever waits goes in the same two round trips: a busy process publishes
            # as fast as its events come, however slowly its loop turns.
            batch = [first]
            while len(batch) < BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self.publish(layer, batch)
            except Exception as error:  # whatever Redis does, keep publishing
                redis_outage.failed(error)
                self.down_until = time.monotonic() + PROBE_INTERVAL
                self.dropped("channel layer unreachable", len(batch))
            finally:
                with self.lock:
                    self.waiting -= len(batch)
                    if self.waiting == 0:
                        self.idle.set()

    async def publish(self, layer: Any, batch: list[list[Send]]) -> None:
        timeout = settings.REALTIME_REDIS_TIMEOUT
        if time.monotonic() < self.down_until:
            self.dropped("channel layer unreachable", len(batch))
            return
        if self.owe_catch_up:
            await with_timeout(layer.report_lost(), timeout)
            self.owe_catch_up = False
        await with_timeout(layer.send_batch([send for sends in batch for send in sends]), timeout)
        redis_outage.recovered()
        count("published", len(batch))

    async def settle_lost(self, layer: Any) -> None:
        try:
            await with_timeout(layer.report_lost(), settings.REALTIME_REDIS_TIMEOUT)
        except Exception as error:
            redis_outage.failed(error)
        else:
            self.owe_catch_up = False
            redis_outage.recovered()

    def dropped(self, reason: str, amount: int = 1, *, metric_reason: str = "redis") -> None:
        """Publications are given up: count them, say so, and have every socket catch up later."""
        self.owe_catch_up = True
        count("publish_dropped", amount, reason=metric_reason)
        _dropped_warning(amount, reason)

    def wait_idle(self, timeout: float) -> bool:
        return self.idle.wait(timeout)


publisher = Publisher()


@atexit.register
def _drain_publications() -> None:
    """Let a command that ends right after its last action still deliver its events."""
    publisher.wait_idle(PUBLISH_TIMEOUT)
