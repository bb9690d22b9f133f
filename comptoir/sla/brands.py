"""Which brands have SLA policies, known without a query on the ingest hot path.

Every message's event asks "does this brand measure SLAs?" (``sla.listeners``);
the set is read at most once every ``SLA_BRANDS_CACHE_SECONDS`` per process
(default 5) and dropped at once in the process that changes a policy
(``sla.configure``). A stale answer is harmless: the worker looks the policy
up again, and a conversation whose first event slipped through starts its
clocks at its next event.
"""

import threading
import time

from django.conf import settings

_lock = threading.Lock()
_cached: tuple[float, frozenset[int]] | None = None


def sla_brand_ids() -> frozenset[int]:
    global _cached
    cached = _cached
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    from comptoir.sla.models import SlaPolicy

    ids = frozenset(SlaPolicy.objects.values_list("brand_id", flat=True).distinct())
    ttl = getattr(settings, "SLA_BRANDS_CACHE_SECONDS", 5)
    with _lock:
        _cached = (now + ttl, ids)
    return ids


def forget_sla_brands() -> None:
    """Drop this process's cache (a policy changed here, or a test starts)."""
    global _cached
    with _lock:
        _cached = None


def brand_measures_sla(brand_id: int) -> bool:
    return brand_id in sla_brand_ids()
