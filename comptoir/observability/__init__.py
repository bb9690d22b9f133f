"""Observability: health probes, Prometheus metrics, structured logs, request ids.

``metrics`` defines every metric and imports nothing else of Comptoir, so any layer
(ingest, realtime) may count with one line; ``collectors`` reads the task queues and
the outbox at scrape time; ``probes`` answers ``/healthz``, ``/readyz`` and
``/metrics`` ahead of the rest of the middleware; ``logs`` formats JSON lines.
"""
