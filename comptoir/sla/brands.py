"""Which brands have SLA policies, known without a query on the ingest hot path.

Every message's event asks "does this brand measure SLAs?" (``sla.listeners``);
the set is read at most once every ``SLA_BRANDS_CACHE_SECONDS`` per process
(default 5) and dropped at once in the process that changes a policy
(``sla.configure``). A stale answer is harmless: the worker looks the policy
up again, and a conversation whose first event slipped through starts its
clocks at its next event.
"""

from comptoir.process_cache import ProcessCache


def _load() -> frozenset[int]:
    from comptoir.sla.models import SlaPolicy

    return frozenset(SlaPolicy.objects.values_list("brand_id", flat=True).distinct())


_SLA_BRANDS = ProcessCache(_load, "SLA_BRANDS_CACHE_SECONDS")


def sla_brand_ids() -> frozenset[int]:
    return _SLA_BRANDS.get()


def forget_sla_brands() -> None:
    """Drop this process's cache (a policy changed here, or a test starts)."""
    _SLA_BRANDS.forget()


def brand_measures_sla(brand_id: int) -> bool:
    return brand_id in sla_brand_ids()
