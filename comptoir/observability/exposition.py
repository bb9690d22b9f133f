"""The text ``/metrics`` answers: this process's metrics (or, in multiprocess mode, those
of every process sharing ``PROMETHEUS_MULTIPROC_DIR``) plus the database collectors."""

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from comptoir.observability.collectors import DatabaseCollector

_database_registry = CollectorRegistry(auto_describe=False)
_database_registry.register(DatabaseCollector())


def process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def render_metrics() -> tuple[bytes, str]:
    return (
        generate_latest(process_registry()) + generate_latest(_database_registry),
        CONTENT_TYPE_LATEST,
    )


def forget_process_metrics() -> None:
    """In multiprocess mode, drop this process's live gauges (open sockets) as it exits."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        mark_process_dead(os.getpid())
