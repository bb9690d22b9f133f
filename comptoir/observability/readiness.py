"""``/readyz``'s checks: can this process reach its database and, if configured, Redis?

Each check opens a fresh connection with a short timeout (``READINESS_TIMEOUT_SECONDS``)
and is given that long to answer: a stopped or frozen server makes the probe fail in
about that time instead of hanging the load balancer's request. The details of a
failure go to the log; the unauthenticated answer names only the failing check and
the kind of error.
"""

import concurrent.futures
import logging
from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

_executor = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="readyz")


def check_database() -> None:
    """Open a new connection to the default database and run ``SELECT 1`` on it.

    A new connection rather than the request's own: the probe must tell whether a
    connection can be made now, and must not leave a broken one to a request.
    """
    params = connection.get_connection_params()
    if connection.vendor == "postgresql":
        # libpq's minimum is 2 s.
        params["connect_timeout"] = max(2, round(settings.READINESS_TIMEOUT_SECONDS))
    raw = connection.get_new_connection(params)
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchone()
    finally:
        raw.close()


def check_redis() -> None:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.READINESS_TIMEOUT_SECONDS,
        socket_timeout=settings.READINESS_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()


def readiness_checks() -> dict[str, Callable[[], None]]:
    checks = {"database": check_database}
    if settings.REDIS_URL:
        checks["redis"] = check_redis
    return checks


def run_checks() -> tuple[bool, dict[str, dict[str, Any]]]:
    """Run every check at once; (all passed, {name: {"ok": bool, "error": kind}})."""
    timeout = settings.READINESS_TIMEOUT_SECONDS
    futures = {name: _executor.submit(check) for name, check in readiness_checks().items()}
    results: dict[str, dict[str, Any]] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            logger.warning("readiness: %s did not answer within %s s", name, timeout)
            results[name] = {"ok": False, "error": "timeout"}
        except Exception as exc:
            logger.warning("readiness: %s failed: %s", name, exc)
            results[name] = {"ok": False, "error": type(exc).__name__}
        else:
            results[name] = {"ok": True}
    return all(r["ok"] for r in results.values()), results
