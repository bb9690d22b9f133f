"""``record``: append one entry to the audit log (``security.models.AuditEntry``).

Called by views (a customer's file viewed, exported, merged, erased), by the login
signals and the lockout (``security.signals``), by the second-factor pages, and by
signals on roles and Django admin changes. Entries are written in the caller's
transaction: an act rolled back leaves no entry, an act committed always has one.
"""

import ipaddress
from collections.abc import Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from comptoir.security.models import AuditEntry
from comptoir.security.ratelimit import client_ip

# The request being served, so that actions called by views record its address without
# taking the request as a parameter (AuditContextMiddleware sets it).
_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def _ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    username: str = "",
    brand_id: int | None = None,
    target: Any = None,
    target_type: str = "",
    target_id: str | int = "",
    **details: Any,
) -> AuditEntry:
    """Append ``action`` by ``user`` (default: the request's) from the request's address.

    ``request`` defaults to the one being served (``AuditContextMiddleware``).
    """
    request = request or _current_request.get()
    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        user = candidate if candidate is not None and candidate.is_authenticated else None
    if target is not None:
        target_type = target_type or target._meta.model_name
        target_id = target_id or target.pk
        if brand_id is None:
            brand_id = getattr(target, "brand_id", None)
    return AuditEntry.objects.create(
        brand_id=brand_id,
        action=action,
        user=user,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        ip_address=_ip(request),
        target_type=target_type,
        target_id=str(target_id),
        details=details,
    )


def purge_audit_log(now=None) -> int:
    """Remove entries older than ``AUDIT_RETENTION_DAYS``: the one way rows leave the log."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    table = AuditEntry._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The trigger refuses deletes unless this transaction says it is the purge.
            cursor.execute("SELECT set_config('comptoir.audit_purge', 'on', true)")
        cursor.execute(f"DELETE FROM {table} WHERE at < %s", [cutoff])  # noqa: S608
        return cursor.rowcount
