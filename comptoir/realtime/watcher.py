"""One watcher per serving process: catches what no live frame can reveal.

When the last publications of a burst are dropped, no later frame shows a gap. Every
``REALTIME_WATCH_SECONDS`` the watcher reads, in one round trip, the current
sequence number of every group this process's sockets are in, the ``lost`` counter
and the ``alive`` marker (``layer.py``), and hands them to each socket, which
catches up from the event log when it is behind (``consumers.py``). It also renews
every socket's group memberships before ``group_expiry`` ends them, and re-joins
them all after Redis was unreachable or restarted empty.
"""

import asyncio
import logging
import time
import weakref
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from comptoir.realtime.health import redis_outage
from comptoir.realtime.layer import with_timeout

logger = logging.getLogger(__name__)


class WatchedSocket(Protocol):
    groups_joined: list[str]
    channel_name: str
    sequences: dict[str, int | None]
    behind_at: dict[str, int]
    lost_seen: int | None

    def notify(self, message: dict[str, Any]) -> None: ...


class Watcher:
    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.sockets: weakref.WeakSet = weakref.WeakSet()
        self.task: asyncio.Task | None = None
        self.down = False
        self.renewed_at = time.monotonic()

    def register(self, socket: WatchedSocket) -> None:
        self.sockets.add(socket)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run())

    def unregister(self, socket: WatchedSocket) -> None:
        self.sockets.discard(socket)

    async def run(self) -> None:
        while self.sockets:
            await asyncio.sleep(settings.REALTIME_WATCH_SECONDS)
            try:
                await self.tick()
            except Exception:  # the watcher must outlive anything one tick does
                logger.exception("realtime watcher tick failed")

    async def tick(self) -> None:
        sockets = list(self.sockets)
        groups = sorted({g for s in sockets for g in s.groups_joined})
        timeout = settings.REALTIME_REDIS_TIMEOUT
        try:
            kept_data, lost, sequences = await with_timeout(self.layer.read_state(groups), timeout)
        except Exception as error:  # Redis down: try again next tick
            redis_outage.failed(error)
            self.down = True
            return
        redis_outage.recovered()
        recovered = self.down or not kept_data
        self.down = False
        renew_every = max(1.0, self.layer.group_expiry / 4)
        if recovered or time.monotonic() - self.renewed_at >= renew_every:
            await self.renew(sockets)
        for socket in sockets:
            current = {g: sequences[g] for g in socket.groups_joined if g in sequences}
            if not (
                recovered
                or lost != socket.lost_seen
                or socket.behind_at
                or any(socket.sequences.get(g) != n for g, n in current.items())
            ):
                continue  # up to date: no note, no work for its loop
            socket.notify(
                {
                    "type": "comptoir.watch",
                    "sequences": current,
                    "lost": lost,
                    "recovered": recovered,
                    "restarted": not kept_data,
                }
            )

    async def renew(self, sockets: list[WatchedSocket]) -> None:
        """Join every socket's groups again: resets their expiry, restores them after a restart."""
        timeout = settings.REALTIME_REDIS_TIMEOUT
        try:
            for socket in sockets:
                if socket not in self.sockets:
                    continue  # closed meanwhile: do not bring its membership back
                for group in list(socket.groups_joined):
                    await with_timeout(self.layer.group_add(group, socket.channel_name), timeout)
        except Exception as error:
            redis_outage.failed(error)
            self.down = True
            return
        self.renewed_at = time.monotonic()


_watchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Watcher]" = (
    weakref.WeakKeyDictionary()
)


def watcher() -> Watcher:
    """This event loop's watcher (one per serving process)."""
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    found = _watchers.get(loop)
    if found is None or found.layer is not layer:
        found = _watchers[loop] = Watcher(layer)
    return found
