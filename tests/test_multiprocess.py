"""Two real server processes sharing one database and one Redis: events cross between them."""

import asyncio
import json
import urllib.parse
import urllib.request
import uuid

import pytest
import websockets

from tests.live_server import Site, agent_session

pytestmark = pytest.mark.live

SEED = """
import json
from django.contrib.auth import get_user_model
from comptoir.tenancy.models import Brand, Membership
brand = Brand.objects.create(name="Live", slug="live")
user = get_user_model().objects.create_user("liveagent", password="x-live-password-1")
Membership.objects.create(user=user, brand=brand, role="agent")
print(json.dumps({"brand": brand.slug}))
"""


@pytest.fixture
def redis_site(tmp_path):
    site = Site(
        tmp_path,
        extra_env={
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "REDIS_PREFIX": f"t{uuid.uuid4().hex[:8]}",
        },
    )
    site.manage("migrate", "--no-input")
    site.python(SEED)
    yield site
    site.stop()


def post_json(url: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def send_chat(server: str, token: str, text: str) -> dict:
    form = urllib.parse.urlencode({"text": text, "client_id": str(uuid.uuid4())}).encode()
    request = urllib.request.Request(
        f"{server}/widget/api/messages", form, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def console_events(server: str, sessionid: str, last_event_id: int):
    """Open a console socket on ``server`` and resume; returns the socket once resumed."""
    socket = await websockets.connect(
        server.replace("http", "ws") + "/ws/console/",
        additional_headers={"Cookie": f"sessionid={sessionid}", "Origin": server},
    )
    await socket.send(json.dumps({"type": "resume", "last_event_id": last_event_id}))
    missed = []
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if frame["type"] == "resumed":
            return socket, missed
        missed.append(frame)


async def next_event(socket) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if frame["type"] == "event":
            return frame


def test_message_ingested_on_one_process_reaches_a_socket_on_the_other(redis_site):
    server_a = redis_site.start_server()
    server_b = redis_site.start_server()
    session = agent_session(redis_site, "liveagent")
    visitor = post_json(f"{server_a}/widget/api/session", {"brand": "live"})

    async def scenario():
        socket, _ = await console_events(server_b, session["sessionid"], 0)
        # A quiet socket must stay subscribed (redis-py 8 used to time out after 5 s).
        await asyncio.sleep(7)
        sent = await asyncio.to_thread(send_chat, server_a, visitor["token"], "Bonjour depuis A")
        event = await next_event(socket)
        assert event["payload"]["text"] == "Bonjour depuis A"
        assert event["payload"]["id"] == sent["message"]["id"]
        last_seen = event["id"]
        await socket.close()

        # While the agent is away, two more messages arrive through process A;
        # reconnecting (to A this time) from the last id catches up on both.
        await asyncio.to_thread(send_chat, server_a, visitor["token"], "Vous êtes là ?")
        await asyncio.to_thread(send_chat, server_a, visitor["token"], "Allô ?")
        socket, missed = await console_events(server_a, session["sessionid"], last_seen)
        new = [f["payload"]["text"] for f in missed if f["id"] > last_seen]
        assert new == ["Vous êtes là ?", "Allô ?"]
        await socket.close()

    asyncio.run(scenario())


def test_console_socket_without_a_session_is_refused(redis_site):
    server = redis_site.start_server()

    async def scenario():
        socket = await websockets.connect(
            server.replace("http", "ws") + "/ws/console/", additional_headers={"Origin": server}
        )
        frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert frame["code"] == "not_authenticated"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 10)
        assert closed.value.rcvd.code == 4401

    asyncio.run(scenario())


def test_console_socket_from_a_foreign_origin_is_refused(redis_site):
    server = redis_site.start_server()
    session = agent_session(redis_site, "liveagent")

    async def scenario():
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(
                server.replace("http", "ws") + "/ws/console/",
                additional_headers={
                    "Cookie": f"sessionid={session['sessionid']}",
                    "Origin": "https://evil.example",
                },
            )
        assert refused.value.response.status_code == 403

    asyncio.run(scenario())


def test_visitor_tokens_never_reach_the_server_log(tmp_path):
    site = Site(tmp_path)
    site.manage("migrate", "--no-input")
    site.python(SEED)
    server = site.start_server(log_level="info")
    try:
        visitor = post_json(f"{server}/widget/api/session", {"brand": "live"})

        async def open_widget_socket():
            url = server.replace("http", "ws") + f"/ws/widget/?token={visitor['token']}"
            async with websockets.connect(url) as socket:
                await socket.send(json.dumps({"type": "ping"}))
                assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"type": "pong"}

        asyncio.run(open_widget_socket())
    finally:
        site.stop()
    log = site.logs[-1].read_text()
    assert "/ws/widget/?token=[redacted]" in log
    assert visitor["token"] not in log
