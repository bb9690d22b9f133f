"""Keep credentials out of server logs.

Browsers cannot send headers with a WebSocket, so the widget's visitor token
travels in the socket URL (``/ws/widget/?token=…``), and uvicorn logs that URL.
This filter masks the value before any handler writes the line.
"""

import logging
import re

_TOKEN_IN_QUERY = re.compile(r"(?<=[?&]token=)[^&\s\"']+")
REDACTED = "[redacted]"


def redact_tokens(value: object) -> object:
    return _TOKEN_IN_QUERY.sub(REDACTED, value) if isinstance(value, str) else value


class RedactTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: redact_tokens(arg) for key, arg in record.args.items()}
        return True
