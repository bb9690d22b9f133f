"""A console reconnecting while PostgreSQL is down gets a clean close, not a traceback.

The outage is real: the connection settings point at a port where nothing listens,
so the session middleware's read fails as it would in production.
"""

import logging

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, connections

from comptoir.asgi import DATABASE_UNAVAILABLE_CLOSE_CODE, application
from tests.factories import make_agent, make_brand
from tests.live_server import free_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="an outage needs a database server to lose; SQLite is a file in the process",
    ),
]


def agent_session_key() -> str:
    user = make_agent(make_brand()).user
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def console_socket(session_key: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application,
        "/ws/console/",
        headers=[
            (b"cookie", f"sessionid={session_key}".encode()),
            (b"origin", b"http://127.0.0.1"),
        ],
    )


def point_database_at(port: str) -> None:
    """Every new connection, in every thread, goes to ``port``; open ones are closed."""
    connections["default"].settings_dict["PORT"] = port
    connections.close_all()


async def test_console_reconnect_during_an_outage_is_closed_with_4503(caplog):
    session_key = await database_sync_to_async(agent_session_key)()
    socket = console_socket(session_key)
    connected, _ = await socket.connect(timeout=5)
    assert connected
    await socket.disconnect()

    port = connections["default"].settings_dict["PORT"]
    await database_sync_to_async(point_database_at)(str(free_port()))
    try:
        caplog.set_level(logging.WARNING, logger="comptoir.asgi")
        socket = console_socket(session_key)
        connected, _ = await socket.connect(timeout=10)
        closing = await socket.receive_output(timeout=10)
    finally:
        await database_sync_to_async(point_database_at)(port)
    assert connected  # accepted, so that the close code and reason reach the browser
    assert closing["type"] == "websocket.close"
    assert closing["code"] == DATABASE_UNAVAILABLE_CLOSE_CODE
    assert "database unavailable" in closing["reason"]
    records = [r for r in caplog.records if r.name == "comptoir.asgi"]
    assert len(records) == 1 and records[0].exc_info is None
    assert "database unavailable (OperationalError)" in records[0].getMessage()

    # The database back: the same session connects again.
    socket = console_socket(session_key)
    connected, _ = await socket.connect(timeout=5)
    assert connected
    await socket.disconnect()
