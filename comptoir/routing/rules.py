"""A brand's routing rules: its ``RoutingSettings`` row, or the defaults when it has none."""

import threading
import time

from django.conf import settings

from comptoir.routing.models import RoutingSettings


def routing_settings(brand_id: int) -> RoutingSettings:
    """The brand's rules; an unsaved row of defaults when never set (a read writes nothing)."""
    found = RoutingSettings.objects.filter(brand_id=brand_id).first()
    return found or RoutingSettings(brand_id=brand_id)


# Which brands route new conversations on which channels, read without a query on ingest's
# hot path: refreshed every ROUTING_CACHE_SECONDS per process, at once where they change.
_lock = threading.Lock()
_new_channels: tuple[float, dict[int, frozenset[str]]] | None = None


def channels_routed_when_new() -> dict[int, frozenset[str]]:
    global _new_channels
    cached = _new_channels
    moment = time.monotonic()
    if cached is not None and cached[0] > moment:
        return cached[1]
    rows = RoutingSettings.objects.exclude(route_new_channels="").values_list(
        "brand_id", "route_new_channels"
    )
    found = {
        brand_id: frozenset(c.strip() for c in channels.split(",") if c.strip())
        for brand_id, channels in rows
    }
    with _lock:
        _new_channels = (moment + getattr(settings, "ROUTING_CACHE_SECONDS", 5), found)
    return found


def forget_routing_cache() -> None:
    """Drop this process's cache (a brand's settings changed here, or a test starts)."""
    global _new_channels
    with _lock:
        _new_channels = None
