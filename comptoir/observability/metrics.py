"""Every Prometheus metric Comptoir exports, in one place.

This module imports nothing of Comptoir: the lowest layers count with one line
(``MESSAGES_INGESTED.labels(channel=...).inc()``) without import circles.

Each ``comptoir serve`` process is its own scrape target (it is one process with
its own port: there is no pre-forked worker sharing a socket). When several
processes of one machine should be aggregated before the scrape, set
``PROMETHEUS_MULTIPROC_DIR``: prometheus-client then keeps every process's values
in files of that directory and ``/metrics`` reads them all (see docs/deployment.md).
"""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "comptoir_http_requests",
    "HTTP requests answered, by route name (not raw path), method and status code.",
    ["route", "method", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "comptoir_http_request_duration_seconds",
    "Time to answer an HTTP request, by route name and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
MESSAGES_INGESTED = Counter(
    "comptoir_messages_ingested",
    "Inbound customer messages stored (redeliveries not counted), by channel.",
    ["channel"],
)
CALLBACKS_INSTEAD_OF_WAITING = Counter(
    "comptoir_callbacks_instead_of_waiting",
    "Callbacks chosen from the widget's offer while waiting in line (routing's threshold), "
    "by brand.",
    ["brand"],
)
EVENTS_PUBLISHED = Counter(
    "comptoir_realtime_events_published",
    "Committed events handed to the channel layer for WebSocket fan-out.",
)
EVENTS_DROPPED = Counter(
    "comptoir_realtime_events_dropped",
    "Events that did not reach a group or a socket live (clients catch up from the log); "
    "reason: e.g. 'capacity' (a channel's buffer was full), 'redis' (Redis failed or timed "
    "out).",
    ["reason"],
)
SOCKETS_OPEN = Gauge(
    "comptoir_websockets_open",
    "WebSockets open in this process, by stream (console, widget).",
    ["stream"],
    multiprocess_mode="livesum",
)
RESUME_EVENTS = Histogram(
    "comptoir_realtime_resume_events",
    "Events replayed to a client on one resume (what it missed), by stream.",
    ["stream"],
    buckets=(0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
)
REALTIME_CATCH_UPS = Counter(
    "comptoir_realtime_catch_ups",
    "Catch-ups of a socket from the event log, by what triggered them: 'gap' (a frame "
    "out of turn), 'watch' (behind Redis's sequence number, or publications reported "
    "lost), 'ping' (a client's ping).",
    ["reason"],
)
REALTIME_CAUGHT_UP_EVENTS = Counter(
    "comptoir_realtime_caught_up_events",
    "Events sent to sockets by catch-ups from the event log (missed live).",
)
