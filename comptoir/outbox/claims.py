"""Claiming due rows of a work table (deliveries, assistant jobs) among several workers."""

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet


def claim_due(
    pending: QuerySet,
    now: datetime,
    *,
    limit: int,
    lease: timedelta,
    order_by: str = "next_attempt_at",
    **updates: Any,
) -> list[int]:
    """Claim up to ``limit`` rows of ``pending`` whose ``next_attempt_at`` has come.

    ``SKIP LOCKED`` on PostgreSQL lets several workers claim at once without
    ever taking the same row; the claim moves ``next_attempt_at`` a ``lease``
    ahead, so a row whose worker died is tried again once the lease runs out.
    """
    with transaction.atomic():
        due = list(
            pending.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now)
            .order_by(order_by)
            .values_list("pk", flat=True)[:limit]
        )
        pending.model.objects.filter(pk__in=due).update(next_attempt_at=now + lease, **updates)
    return due
