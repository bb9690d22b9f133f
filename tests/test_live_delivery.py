"""Live delivery under faults: real server processes, a Redis of the test's own.

A channel that overflows, a Redis frozen (SIGSTOP) or stopped and restarted empty,
group memberships older than their expiry: the agent's socket still gets every
event (from the event log when the live frame was lost), and no inbound message's
acknowledgement waits for Redis.
"""

import asyncio
import json
import signal
import subprocess
import uuid
from dataclasses import dataclass

import pytest
import redis

from tests import waiting
from tests.live_server import Site, agent_session, free_port
from tests.test_multiprocess import SEED, console_events, post_json, send_chat

pytestmark = pytest.mark.live

WAIT = 120  # seconds a test may wait for a state before failing (a cap, not a delay)


@dataclass
class RedisServer:
    """A redis-server of this test only: stopping or freezing it disturbs nobody else."""

    port: int
    folder: str
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: self.client().ping(), "redis-server answers")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)


def wait_until(condition, what: str):
    """A state of a server or of Redis (either may be restarting meanwhile)."""
    return waiting.wait_until(condition, what, timeout=WAIT, tolerate=(OSError, redis.RedisError))


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(free_port(), str(tmp_path))
    server.start()
    yield server
    server.thaw()
    server.stop()


def live_site(tmp_path, own_redis, **settings: str) -> Site:
    site = Site(
        tmp_path,
        extra_env={
            "REDIS_URL": own_redis.url,
            "REDIS_PREFIX": f"t{uuid.uuid4().hex[:8]}",
            "REALTIME_WATCH_SECONDS": "0.5",
            "REALTIME_REDIS_TIMEOUT": "1",
            **settings,
        },
    )
    site.manage("migrate", "--no-input")
    site.python(SEED)
    return site


@pytest.fixture
def sites():
    started = []
    yield started
    for site in started:
        site.stop()


class Collector:
    """Reads an agent's socket in the background; remembers every event frame."""

    def __init__(self, socket) -> None:
        self.socket = socket
        self.ids: list[int] = []
        self.arrived = asyncio.Condition()  # notified at every event frame
        self.task = asyncio.get_running_loop().create_task(self.read())

    async def read(self) -> None:
        async for raw in self.socket:
            frame = json.loads(raw)
            if frame["type"] == "event":
                async with self.arrived:
                    self.ids.append(frame["id"])
                    self.arrived.notify_all()

    async def wait_for(self, expected: set[int]) -> None:
        """Until every id in ``expected`` has arrived (each frame wakes this up)."""
        async with self.arrived:
            try:
                await asyncio.wait_for(
                    self.arrived.wait_for(lambda: expected <= set(self.ids)), WAIT
                )
            except TimeoutError:
                raise AssertionError(f"never received {expected - set(self.ids)}") from None

    async def close(self) -> None:
        self.task.cancel()
        await self.socket.close()


def event_ids(site: Site) -> set[int]:
    return set(
        site.python(
            "import json; from comptoir.events.models import Event; "
            "print(json.dumps(list(Event.objects.values_list('id', flat=True))))"
        )
    )


def chat(server: str, token: str, text: str) -> None:
    """Post a widget message; its acknowledgement must come within urlopen's 10 s."""
    assert send_chat(server, token, text)["message"]["text"] == text


def test_every_event_reaches_a_socket_whose_channel_overflowed(tmp_path, own_redis, sites):
    site = live_site(tmp_path, own_redis, REALTIME_CHANNEL_CAPACITY="3")
    sites.append(site)
    visitors_server = site.start_server()
    agents_server = site.start_server()
    agents_process = site.servers[-1]
    session = agent_session(site, "liveagent")
    visitor = post_json(f"{visitors_server}/widget/api/session", {"brand": "live"})

    async def scenario():
        socket, _ = await console_events(agents_server, session["sessionid"], 0)
        collector = Collector(socket)
        # The agents' process stops reading (as on a saturated machine) during a burst:
        # its channel holds 3 messages, the rest are dropped.
        agents_process.send_signal(signal.SIGSTOP)
        try:
            for i in range(30):
                await asyncio.to_thread(chat, visitors_server, visitor["token"], f"burst {i}")
        finally:
            agents_process.send_signal(signal.SIGCONT)
        await collector.wait_for(event_ids(site))
        assert len(collector.ids) == len(set(collector.ids))  # nothing sent twice
        await collector.close()

    asyncio.run(scenario())
    assert "dropped by full channels" in site.logs[0].read_text()


def test_a_frozen_or_restarted_redis_delays_no_acknowledgement_and_loses_no_event(
    tmp_path, own_redis, sites
):
    site = live_site(tmp_path, own_redis)
    sites.append(site)
    visitors_server = site.start_server()
    agents_server = site.start_server()
    session = agent_session(site, "liveagent")
    visitor = post_json(f"{visitors_server}/widget/api/session", {"brand": "live"})

    async def scenario():
        socket, _ = await console_events(agents_server, session["sessionid"], 0)
        collector = Collector(socket)
        await asyncio.to_thread(chat, visitors_server, visitor["token"], "before")
        await collector.wait_for(event_ids(site))

        own_redis.freeze()
        try:
            await asyncio.to_thread(chat, visitors_server, visitor["token"], "frozen")
            # Until the publisher's calls to the frozen Redis time out, and after.
            await asyncio.to_thread(
                wait_until,
                lambda: "Redis unreachable" in site.logs[0].read_text(),
                "the visitors' process noticed the frozen Redis",
            )
            for i in range(5):
                await asyncio.to_thread(chat, visitors_server, visitor["token"], f"frozen {i}")
        finally:
            own_redis.thaw()
        await collector.wait_for(event_ids(site))

        own_redis.stop()
        for i in range(5):
            await asyncio.to_thread(chat, visitors_server, visitor["token"], f"stopped {i}")
        own_redis.start()  # empty: group memberships and sequence numbers are gone
        await collector.wait_for(event_ids(site))

        await asyncio.to_thread(chat, visitors_server, visitor["token"], "after")
        await collector.wait_for(event_ids(site))
        assert len(collector.ids) == len(set(collector.ids))
        await collector.close()

    asyncio.run(scenario())
    for log in site.logs:
        text = log.read_text()
        assert "Traceback" not in text
        assert text.count("Redis unreachable") <= 2  # one line per outage, not one per call


def test_a_socket_older_than_the_group_expiry_still_receives(tmp_path, own_redis, sites):
    site = live_site(tmp_path, own_redis, REALTIME_GROUP_EXPIRY="2")
    sites.append(site)
    server = site.start_server()
    session = agent_session(site, "liveagent")
    visitor = post_json(f"{server}/widget/api/session", {"brand": "live"})
    prefix = site.extra_env["REDIS_PREFIX"]
    client = own_redis.client()

    def membership_times() -> list[float]:
        return [
            t
            for key in client.keys(f"{prefix}:group:brand.*")
            for _, t in client.zrange(key, 0, -1, withscores=True)
        ]

    async def scenario():
        socket, _ = await console_events(server, session["sessionid"], 0)
        collector = Collector(socket)
        joined = wait_until(membership_times, "the socket joined its brand's group")[0]
        # Memberships older than 2 s are dropped by every group_send: this one is renewed.
        await asyncio.to_thread(
            wait_until,
            lambda: any(t > joined + 2 for t in membership_times()),
            "the membership was renewed after the expiry",
        )
        await asyncio.to_thread(chat, server, visitor["token"], "still there?")
        await collector.wait_for(event_ids(site))
        await collector.close()

    asyncio.run(scenario())
