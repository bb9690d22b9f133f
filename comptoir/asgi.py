"""ASGI entry point: HTTP through Django, WebSockets through Channels consumers."""

import logging
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.db import DatabaseError  # noqa: E402

from comptoir.observability.asgi import with_request_id  # noqa: E402
from comptoir.realtime.routing import websocket_application  # noqa: E402

logger = logging.getLogger(__name__)

# Close code of a socket refused because the database is unreachable: 4503, like HTTP's
# 503 ("try again later"); the clients reconnect with backoff and resume from their last id.
DATABASE_UNAVAILABLE_CLOSE_CODE = 4503
DATABASE_UNAVAILABLE_REASON = "database unavailable, reconnect later"


def close_on_database_outage(app):
    """Close a WebSocket cleanly when the database is down, instead of a traceback.

    The console's ``AuthMiddlewareStack`` reads the session from the database before
    any consumer runs: during a PostgreSQL outage that raised (``AttributeError:
    'SessionStore' object has no attribute '_session_cache'``, from the failed
    load) on every reconnect, and the server answered the handshake with an error.
    Here the socket is accepted (a close code reaches the browser only after the
    handshake) and closed with 4503 and a reason, logged as one line.
    """

    async def guarded(scope, receive, send):
        state = {"connect_received": False, "accepted": False, "closed": False}

        async def tracking_receive():
            message = await receive()
            if message["type"] == "websocket.connect":
                state["connect_received"] = True
            return message

        async def tracking_send(message):
            if message["type"] == "websocket.accept":
                state["accepted"] = True
            elif message["type"] == "websocket.close":
                state["closed"] = True
            await send(message)

        try:
            return await app(scope, tracking_receive, tracking_send)
        except DatabaseError as error:
            logger.warning(
                "websocket %s closed with %d: database unavailable (%s)",
                scope.get("path", "?"),
                DATABASE_UNAVAILABLE_CLOSE_CODE,
                type(error).__name__,
            )
            if state["closed"]:
                return None
            if not state["connect_received"]:
                await receive()  # the websocket.connect the failing middleware never read
            if not state["accepted"]:
                await send({"type": "websocket.accept"})
            await send(
                {
                    "type": "websocket.close",
                    "code": DATABASE_UNAVAILABLE_CLOSE_CODE,
                    "reason": DATABASE_UNAVAILABLE_REASON,
                }
            )
            return None

    return guarded


application = ProtocolTypeRouter(
    {
        "http": with_request_id(django_asgi_app),
        "websocket": close_on_database_outage(websocket_application),
    }
)
