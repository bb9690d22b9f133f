"""Which event kinds endpoints may ask for, and which ones each brand's endpoints want.

Every event of a subscribable kind asks "does a webhook of this brand want it?"
inside its transaction (``outbound_webhooks.listeners``), ingest included: the
answer comes from a per-process map, read at most once every
``WEBHOOKS_CACHE_SECONDS`` and dropped at once in the process that changes an
endpoint. A stale "yes" costs one query; a stale "no" for a few seconds after
an endpoint was made in another process misses those seconds' events, which is
why the console says "within a few seconds".
"""

from comptoir.events.kinds import KINDS, EventKind
from comptoir.process_cache import ProcessCache

# Events that reach agents' consoles may reach an integrator; the log's internal kinds
# (published=False) and the webhooks' own notices may not.
SUBSCRIBABLE_KINDS: dict[str, EventKind] = {
    name: kind for name, kind in KINDS.items() if kind.published and not name.startswith("webhook.")
}


def _load() -> dict[int, frozenset[str]]:
    from comptoir.outbound_webhooks.models import WebhookEndpoint

    wanted: dict[int, set[str]] = {}
    for brand_id, kinds in WebhookEndpoint.objects.filter(is_enabled=True).values_list(
        "brand_id", "kinds"
    ):
        wanted.setdefault(brand_id, set()).update(kinds or [])
    return {brand_id: frozenset(kinds) for brand_id, kinds in wanted.items()}


_SUBSCRIPTIONS = ProcessCache(_load, "WEBHOOKS_CACHE_SECONDS")


def _subscriptions() -> dict[int, frozenset[str]]:
    return _SUBSCRIPTIONS.get()


def brand_wants(brand_id: int, kind: str) -> bool:
    kinds = _subscriptions().get(brand_id)
    return kinds is not None and kind in kinds


def forget_subscriptions() -> None:
    """Drop this process's map (an endpoint changed here, or a test starts)."""
    _SUBSCRIPTIONS.forget()
