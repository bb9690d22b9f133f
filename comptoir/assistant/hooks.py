"""The assistant's one hook into ingest: a job row in the message's own transaction.

Ingest is the hot path of every channel, so the check "does this brand use
the assistant?" must cost nothing: the set of enabled brands is read at most
once every ``ASSISTANT_ENABLED_CACHE_SECONDS`` per process (default 5) and
refreshed at once in the process that changes a brand's settings. Another
process sees an enabled/disabled switch within that delay; a message that
slips through is harmless either way, because the worker checks the setting
again before answering (a disabled brand is never answered).
"""

import threading
import time

from django.conf import settings
from django.utils import timezone

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


def enqueue_assistant_job(message) -> None:
    """Queue ``message`` (a customer's, just stored) for the assistant, in ingest's transaction."""
    from comptoir.assistant.models import AssistantJob

    now = timezone.now()
    AssistantJob.objects.create(
        brand_id=message.brand_id,
        message=message,
        conversation_id=message.conversation_id,
        next_attempt_at=now,
        created_at=now,
    )
