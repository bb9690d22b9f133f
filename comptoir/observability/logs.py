"""Structured logs (``LOG_FORMAT=json``) and the request id every log line can carry.

One JSON object per line (time, level, logger, message, request id when known,
exception text when any): what log collectors (Loki, journald, CloudWatch…) parse
without a grammar. The request id comes from the proxy's ``X-Request-ID`` when it
sends a well-formed one, else it is made here (``middleware``), and is echoed in
the response so a user's report can be found in the logs.
"""

import contextvars
import json
import logging
from datetime import UTC, datetime

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "comptoir_request_id", default=None
)


class RequestIdFilter(logging.Filter):
    """Give every record a ``request_id`` attribute (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            entry["request_id"] = rid
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
