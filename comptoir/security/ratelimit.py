"""Rate limits on public and credential-taking endpoints, counted in the cache.

A scope (``widget_message``, ``login``, ``api``…) has a limit of ``requests/seconds``
in ``settings.RATE_LIMITS``; ``check_rate(scope, key)`` counts one request for the key
(a visitor, a client address, a token) in the current fixed window and raises
``RateLimited`` with the seconds left in it once the limit is passed. Callers answer
429 with ``Retry-After``. The cache is Redis when ``REDIS_URL`` is set, so every
process counts together; otherwise each process counts alone.
"""

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)
# After a cache failure (Redis down or frozen), requests go unlimited for this long in the
# process rather than each one waiting for Redis: limits never delay an acknowledgement.
CACHE_RETRY_SECONDS = 10
_cache_down_until = 0.0


@dataclass(frozen=True)
class Rate:
    requests: int
    seconds: int


class RateLimited(Exception):
    """Too many requests for ``scope``; try again in ``retry_after`` seconds."""

    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(f"rate limit {scope} reached; retry in {retry_after} s")
        self.scope = scope
        self.retry_after = retry_after


def parse_rate(text: str) -> Rate:
    """``"30/60"`` → 30 requests per 60 seconds; raises ValueError on anything else."""
    requests, _, seconds = text.partition("/")
    rate = Rate(int(requests), int(seconds))
    if rate.requests < 1 or rate.seconds < 1:
        raise ValueError(f"bad rate {text!r}: both numbers must be positive")
    return rate


def rate_of(scope: str) -> Rate | None:
    """The scope's configured rate; None when rate limits are off."""
    if not settings.RATE_LIMITS_ENABLED:
        return None
    return parse_rate(settings.RATE_LIMITS[scope])


def _cache_key(scope: str, key: str, *parts: object) -> str:
    # Hashed: keys may be addresses or phone numbers, which have no business in Redis.
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return ":".join(["ratelimit", scope, digest, *map(str, parts)])


def _window(rate: Rate) -> tuple[int, int]:
    """The current window's number and the seconds left in it (at least 1)."""
    now = time.time()
    index = int(now // rate.seconds)
    return index, max(1, int((index + 1) * rate.seconds - now + 0.999))


def _count(cache_key: str, rate: Rate) -> int:
    cache.add(cache_key, 0, timeout=rate.seconds + 1)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=rate.seconds + 1)
        return 1


def _cache_available() -> bool:
    return time.monotonic() >= _cache_down_until


def _cache_failed(error: Exception) -> None:
    """Limits are lifted for a while; one log line per outage."""
    global _cache_down_until
    if _cache_available():
        logger.warning(
            "rate limits lifted for %s s: the cache failed: %r", CACHE_RETRY_SECONDS, error
        )
    _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS


def check_rate(scope: str, key: str) -> None:
    """Count one request of ``key`` in ``scope``; raise ``RateLimited`` beyond the limit.

    A cache that fails (Redis down or frozen) lets the request through: a rate limit
    never refuses nor delays what would otherwise be accepted.
    """
    rate = rate_of(scope)
    if rate is None or not _cache_available():
        return
    index, left = _window(rate)
    try:
        count = _count(_cache_key(scope, key, index), rate)
    except Exception as error:
        _cache_failed(error)
        return
    if count > rate.requests:
        raise RateLimited(scope, left)


def check_distinct(scope: str, key: str, value: str) -> None:
    """Count ``value`` once per window among the different values ``key`` used in ``scope``.

    A value already seen in the window is always allowed again (a retry, a second
    request for the same number); a new one beyond the limit raises ``RateLimited``.
    """
    rate = rate_of(scope)
    if rate is None or not _cache_available():
        return
    index, left = _window(rate)
    seen_key = _cache_key(scope, key, index, hashlib.sha256(value.encode()).hexdigest()[:32])
    try:
        if cache.get(seen_key) is not None:
            return
        if _count(_cache_key(scope, key, index), rate) > rate.requests:
            raise RateLimited(scope, left)
        cache.set(seen_key, 1, timeout=rate.seconds + 1)
    except RateLimited:
        raise
    except Exception as error:
        _cache_failed(error)


def client_ip(request: HttpRequest, *args: object) -> str:
    """The client's address: uvicorn sets it from the proxy's headers it trusts."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def axes_client_ip(request: HttpRequest, *args: object) -> str | None:
    """The address django-axes records: None when there is none (a test's fake request)."""
    return request.META.get("REMOTE_ADDR") or None
