"""What a hot path asks on every event, read from the database at most every few seconds.

Every customer message's event asks, inside its transaction, whether its brand
uses the assistant, measures SLAs, routes new conversations at once, checks in
proactively or has a webhook wanting the kind. Those answers come from a
``ProcessCache``: loaded at most once every ``ttl_setting`` seconds (default 5)
in each process, and dropped at once in the process that changes them
(``forget``, after commit). Another process sees a change within that delay;
each user of a cache says why a stale answer is harmless there.
"""

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings

Value = TypeVar("Value")

_every_cache: list["ProcessCache"] = []


class ProcessCache(Generic[Value]):
    def __init__(self, load: Callable[[], Value], ttl_setting: str) -> None:
        self._load = load
        self._ttl_setting = ttl_setting
        self._lock = threading.Lock()
        self._cached: tuple[float, Value] | None = None
        _every_cache.append(self)

    def get(self) -> Value:
        cached = self._cached
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        value = self._load()
        with self._lock:
            self._cached = (now + getattr(settings, self._ttl_setting, 5), value)
        return value

    def forget(self) -> None:
        """Drop this process's copy (it changed here, or a test starts)."""
        with self._lock:
            self._cached = None


def forget_every_cache() -> None:
    """Drop every cache of this process (a test starts)."""
    for cache in _every_cache:
        cache.forget()
