"""A brand's routing rules: its ``RoutingSettings`` row, or the defaults when it has none."""

from comptoir.process_cache import ProcessCache
from comptoir.routing.models import RoutingSettings


def routing_settings(brand_id: int) -> RoutingSettings:
    """The brand's rules; an unsaved row of defaults when never set (a read writes nothing)."""
    found = RoutingSettings.objects.filter(brand_id=brand_id).first()
    return found or RoutingSettings(brand_id=brand_id)


def _load_new_channels() -> dict[int, frozenset[str]]:
    rows = RoutingSettings.objects.exclude(route_new_channels="").values_list(
        "brand_id", "route_new_channels"
    )
    return {
        brand_id: frozenset(c.strip() for c in channels.split(",") if c.strip())
        for brand_id, channels in rows
    }


# Which brands route new conversations on which channels, read without a query on ingest's
# hot path: refreshed every ROUTING_CACHE_SECONDS per process, at once where they change.
_NEW_CHANNELS = ProcessCache(_load_new_channels, "ROUTING_CACHE_SECONDS")


def channels_routed_when_new() -> dict[int, frozenset[str]]:
    return _NEW_CHANNELS.get()


def forget_routing_cache() -> None:
    """Drop this process's cache (a brand's settings changed here, or a test starts)."""
    _NEW_CHANNELS.forget()
