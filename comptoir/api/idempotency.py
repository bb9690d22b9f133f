"""``Idempotency-Key`` on every REST write: a retried request returns the first result.

An integration whose request timed out cannot know whether the reply was stored; it
sends the same request again with the same ``Idempotency-Key`` header (any string of
1 to 255 printable ASCII characters, a UUID is best), as with Stripe:

- the first request runs; its answer, when 2xx, is stored with the key **in the same
  transaction as the write** — a key is recorded exactly when the write was done, so
  a crash can neither record a result for something not done nor let it run twice;
- a retry with the same key (same agent, same brand) gets that answer again, status
  and body, with ``Idempotent-Replayed: true``, and nothing is done again;
- the same key with another method, path or body: 422;
- the same key while the first request is still running: 409 (PostgreSQL, where a
  transaction-scoped advisory lock marks the key as taken; on SQLite writers run one
  at a time, so the retry waits and gets the stored answer);
- an answer that is not 2xx is not stored (nothing was done: the retry runs again);
- keys are forgotten after 24 h (``comptoir.api.tasks.purge_idempotency_keys``).

Keys belong to the token's agent and brand: another agent's identical key is unrelated.
Two ninja decorators installed on the whole API (``comptoir.api.urls``) do it:
``idempotent_run`` wraps the operation (transaction, recording) and ``reserve_key``
runs after authentication and validation, right before the endpoint.
"""

import contextlib
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone

from comptoir.api.models import IdempotencyKey
from comptoir.tenancy.models import Membership

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_LIFETIME = timedelta(hours=24)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no blank


@dataclass
class PendingKey:
    """The key of the request being served (``request.idempotency``)."""

    key: str
    fingerprint: str
    membership: Membership | None = None
    # Set by ``reserve_key``: the endpoint runs (record its answer) or was replayed.
    runs: bool = False


def fingerprint(request: HttpRequest) -> str:
    """SHA-256 of what the request asks: method, path and body (JSON compared as data)."""
    body = request.body
    with contextlib.suppress(ValueError, RecursionError):
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _refusal(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def idempotent_run(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Run a write carrying a key in one transaction that also records its answer."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = request.headers.get(HEADER)
        if request.method not in WRITE_METHODS or key is None:
            return run(request, *args, **kwargs)
        if not _VALID_KEY.fullmatch(key):
            return _refusal(
                400, f"{HEADER} must be 1 to 255 printable ASCII characters without blanks."
            )
        pending = PendingKey(key, fingerprint(request))
        request.idempotency = pending  # type: ignore[attr-defined]
        recorded_concurrently = False
        with transaction.atomic():
            response = run(request, *args, **kwargs)
            if pending.runs and 200 <= response.status_code < 300:
                try:
                    with transaction.atomic():
                        _record(pending, request, response)
                except IntegrityError:
                    # Another request recorded this key first: undo this one's write.
                    recorded_concurrently = True
                    transaction.set_rollback(True)
        if recorded_concurrently:
            return _refusal(409, f"Another request with this {HEADER} was done at the same time.")
        return response

    return wrapper


def reserve_key(view_func: Callable[..., Any]) -> Callable[..., Any]:
    """Before the endpoint: replay a stored answer, refuse a reused or busy key, or let it run."""

    @wraps(view_func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        pending: PendingKey | None = getattr(request, "idempotency", None)
        if pending is None:
            return view_func(request, *args, **kwargs)
        membership: Membership = request.auth  # type: ignore[attr-defined]
        pending.membership = membership
        if not _lock(membership, pending.key):
            return _refusal(
                409, f"A request with this {HEADER} is still in progress; retry it later."
            )
        keys = IdempotencyKey.objects.filter(
            brand_id=membership.brand_id, membership=membership, key=pending.key
        )
        stored = keys.first()
        if stored is not None and stored.created_at > timezone.now() - KEY_LIFETIME:
            if stored.fingerprint != pending.fingerprint:
                return _refusal(
                    422,
                    f"This {HEADER} was used for another request (method, path or body); "
                    "send a new key for a new request.",
                )
            return _replay(stored)
        if stored is not None:
            keys.delete()  # expired, not yet purged: the key is free again
        pending.runs = True
        return view_func(request, *args, **kwargs)

    return wrapper


def _lock(membership: Membership, key: str) -> bool:
    """Take the key for this transaction; False when another request holds it.

    On PostgreSQL, a transaction-scoped advisory lock on a 64-bit hash of (brand,
    agent, key), released at commit or rollback. SQLite serialises write
    transactions (``BEGIN IMMEDIATE``): nothing to take.
    """
    if connection.vendor != "postgresql":
        return True
    name = f"idempotency:{membership.brand_id}:{membership.pk}:{key}".encode()
    lock_id = int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        return bool(cursor.fetchone()[0])


def _record(pending: PendingKey, request: HttpRequest, response: HttpResponseBase) -> None:
    membership = pending.membership
    assert membership is not None
    IdempotencyKey.objects.create(
        brand_id=membership.brand_id,
        membership=membership,
        key=pending.key,
        fingerprint=pending.fingerprint,
        method=request.method or "",
        path=request.path[:500],
        status_code=response.status_code,
        content_type=response.get("Content-Type", "")[:100],
        body=getattr(response, "content", b""),
    )


def _replay(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        bytes(stored.body), status=stored.status_code, content_type=stored.content_type or None
    )
    response[REPLAYED_HEADER] = "true"
    return response


def purge_expired_keys() -> int:
    """Delete the keys older than ``KEY_LIFETIME``; how many went."""
    deleted, _ = IdempotencyKey.objects.filter(
        created_at__lte=timezone.now() - KEY_LIFETIME
    ).delete()
    return deleted
