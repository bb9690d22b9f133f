"""The request id, set around the whole ASGI request rather than inside Django.

Django logs a 4xx/5xx answer after its middleware has returned, and runs sync
middleware (WhiteNoise's) in a thread: a context variable set here, before Django,
is seen by every log line of the request, in whichever thread it is written.
"""

import re
import uuid
from typing import Any

from comptoir.observability.logs import request_id

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def valid_request_id(given: str) -> str:
    """The proxy's id when well-formed (no spaces, no line breaks), else a new one."""
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def with_request_id(app: Any) -> Any:
    """Wrap an ASGI app: each HTTP request runs with ``request_id`` set."""

    async def application(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"")
        token = request_id.set(valid_request_id(given.decode("latin-1")))
        try:
            await app(scope, receive, send)
        finally:
            request_id.reset(token)

    return application
