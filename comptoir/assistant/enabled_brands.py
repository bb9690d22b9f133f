"""Which brands use the assistant, known without a query on the ingest hot path.

Every customer message's event asks "does this brand use the assistant?"
(``assistant.listeners``), so the answer must cost nothing: the set of enabled
brands is read at most once every ``ASSISTANT_ENABLED_CACHE_SECONDS`` per process (default 5) and
refreshed at once in the process that changes a brand's settings. Another
process sees an enabled/disabled switch within that delay; a message that
slips through is harmless either way, because the worker checks the setting
again before answering (a disabled brand is never answered).
"""

from comptoir.process_cache import ProcessCache


def _load() -> frozenset[int]:
    from comptoir.assistant.models import AssistantSettings

    return frozenset(
        AssistantSettings.objects.filter(enabled=True).values_list("brand_id", flat=True)
    )


_ENABLED = ProcessCache(_load, "ASSISTANT_ENABLED_CACHE_SECONDS")


def enabled_brand_ids() -> frozenset[int]:
    return _ENABLED.get()


def forget_enabled_brands() -> None:
    """Drop this process's cache (the settings changed here, or a test starts)."""
    _ENABLED.forget()


def assistant_enabled_for(brand_id: int) -> bool:
    return brand_id in enabled_brand_ids()
