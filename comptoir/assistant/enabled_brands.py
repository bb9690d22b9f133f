"""Which brands use the assistant, known without a query on the ingest hot path.

Every customer message's event asks "does this brand use the assistant?"
(``assistant.listeners``), so the answer must cost nothing: the set of enabled
brands is read at most once every ``ASSISTANT_ENABLED_CACHE_SECONDS`` per process (default 5) and
refreshed at once in the process that changes a brand's settings. Another
process sees an enabled/disabled switch within that delay; a message that
slips through is harmless either way, because the worker checks the setting
again before answering (a disabled brand is never answered).
"""

import threading
import time

from django.conf import settings

_lock = threading.Lock()
_enabled: tuple[float, frozenset[int]] | None = None


def enabled_brand_ids() -> frozenset[int]:
    global _enabled
    cached = _enabled
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    from comptoir.assistant.models import AssistantSettings

    ids = frozenset(
        AssistantSettings.objects.filter(enabled=True).values_list("brand_id", flat=True)
    )
    ttl = getattr(settings, "ASSISTANT_ENABLED_CACHE_SECONDS", 5)
    with _lock:
        _enabled = (now + ttl, ids)
    return ids


def forget_enabled_brands() -> None:
    """Drop this process's cache (the settings changed here, or a test starts)."""
    global _enabled
    with _lock:
        _enabled = None


def assistant_enabled_for(brand_id: int) -> bool:
    return brand_id in enabled_brand_ids()
