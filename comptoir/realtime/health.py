"""Counters and outage logging for live delivery.

Every dropped or missed publication is counted here and logged at WARNING (never
silently): the event log still has the event, and the sockets concerned catch up
from it. ``stats`` is what a metrics endpoint reads; ``redis_outage`` makes one log
line per Redis outage per process instead of a traceback per socket.
"""

import logging
import threading
import time
from collections import Counter

from comptoir.observability import metrics

logger = logging.getLogger("comptoir.realtime")

# Names: published (events handed to the channel layer), publish_dropped (publications
# given up: queue full, Redis unreachable), channel_overflow (messages the channel
# layer dropped for a full channel), buffer_overflow (messages a process dropped from a
# socket's buffer), gaps (sequence gaps seen by sockets), catch_ups (catch-ups from the
# event log), caught_up_frames (frames sent by those catch-ups).
stats: Counter[str] = Counter()
_stats_lock = threading.Lock()


def count(name: str, amount: int = 1, *, reason: str = "") -> None:
    """Count in ``stats`` and in the Prometheus metric of the same meaning."""
    with _stats_lock:
        stats[name] += amount
    if name == "published":
        metrics.EVENTS_PUBLISHED.inc(amount)
    elif name in _DROP_REASONS:
        metrics.EVENTS_DROPPED.labels(reason=reason or _DROP_REASONS[name]).inc(amount)
    elif name == "catch_ups":
        metrics.REALTIME_CATCH_UPS.labels(reason=reason).inc(amount)
    elif name == "caught_up_frames":
        metrics.REALTIME_CAUGHT_UP_EVENTS.inc(amount)


_DROP_REASONS = {
    "publish_dropped": "redis",  # or "queue", given by the publisher
    "channel_overflow": "capacity",
    "buffer_overflow": "buffer",
}


class RateLimitedWarning:
    """Log a recurring problem at most once per ``interval`` seconds, with how often it happened."""

    def __init__(self, message: str, interval: float = 10.0) -> None:
        self.message = message
        self.interval = interval
        self.last_logged = -interval
        self.unlogged = 0
        self.lock = threading.Lock()

    def __call__(self, amount: int = 1, *args: object) -> None:
        now = time.monotonic()
        with self.lock:
            self.unlogged += amount
            if now - self.last_logged < self.interval:
                return
            self.last_logged, occurrences, self.unlogged = now, self.unlogged, 0
        logger.warning(self.message, occurrences, *args)


class OutageLog:
    """One WARNING line when Redis stops answering in this process, one when it answers again."""

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.failures = 0
        self.lock = threading.Lock()

    def failed(self, error: BaseException) -> None:
        with self.lock:
            self.failures += 1
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
        logger.warning(
            "Redis unreachable (%s: %s): live delivery paused; sockets stay open and "
            "catch up from the event log when it is back",
            type(error).__name__,
            str(error) or "no answer in time",
        )

    def recovered(self) -> None:
        with self.lock:
            if self.down_since is None:
                return
            seconds, failures = time.monotonic() - self.down_since, self.failures
            self.down_since, self.failures = None, 0
        logger.warning(
            "Redis reachable again after %.1f s (%d failed calls); sockets catch up",
            seconds,
            failures,
        )

    @property
    def down(self) -> bool:
        return self.down_since is not None


redis_outage = OutageLog()
