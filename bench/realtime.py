"""Real-time benchmark: widget visitors on one server process, agents on another.

Starts two real ``comptoir serve`` processes sharing PostgreSQL and Redis. N chat
visitors open the widget's WebSocket on process A and post messages on the public
widget path (``/widget/api/messages``) for a bounded time; agents keep a console
socket open on process B. Every acknowledged message must reach every agent's
socket, once. The baseline is a raw Redis pub/sub round trip measured during the
same run (same machine, same load).

    .venv/bin/python bench/realtime.py                        # 100 visitors, 30 s
    .venv/bin/python bench/realtime.py --visitors 300 --duration 60
    .venv/bin/python bench/realtime.py --database-url postgres://postgres@127.0.0.1:5432/x

Prints ``sent``, ``acknowledged``, ``received``, ``lost``, ``duplicated``,
``p50``/``p99`` (visitor→agent, ms), ``baseline p50``/``baseline p99`` (ms) and
``ratio p50``/``ratio p99`` on their own lines, with context lines.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import redis.asyncio as aioredis
import websockets
from bench_secret import ensure_secret_key
from postgres_admin import create_database_if_missing

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ensure_secret_key()  # before the servers start: they inherit it

from tests.live_server import AGENT_SESSION_CODE, Site  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/comptoir_bench_realtime"
PING_SECONDS = 25  # as the console and the widget do
CUSTOMER_KINDS = {"conversation.created", "message.created"}
WARNINGS = (  # what the servers' logs may say about live delivery
    "dropped by full channels",
    "full buffers",
    "gaps in live frames",
    "publications dropped",
    "Redis unreachable",
    "Traceback",
)

SEED = """
import json
from django.contrib.auth import get_user_model
from comptoir.tenancy.models import Brand, Membership
brand = Brand.objects.create(name="Bench {run}", slug="bench-{run}")
for i in range({agents}):
    user = get_user_model().objects.create_user(f"bench-{run}-{{i}}", password="x-bench-pass-1")
    Membership.objects.create(user=user, brand=brand, role="agent")
print(json.dumps({{"brand": brand.slug}}))
"""


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=100)
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--duration", type=float, default=30, help="seconds of sending")
    parser.add_argument(
        "--interval", type=float, default=5, help="mean seconds between a visitor's messages"
    )
    parser.add_argument("--ramp", type=float, default=10, help="seconds over which visitors arrive")
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait for stragglers")
    parser.add_argument("--database-url", help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


class Results:
    def __init__(self) -> None:
        self.sent = 0
        self.sent_at: dict[int, float] = {}  # message id -> when its POST started
        self.acked_at: dict[int, float] = {}  # message id -> when its POST was answered
        self.failed = 0
        self.visitors_failed = 0  # could not open a widget session
        self.received: dict[str, dict[int, float]] = defaultdict(dict)  # agent -> message -> t
        self.frames_per_message: Counter[tuple[str, int]] = Counter()
        self.events_per_message: dict[tuple[str, int], set[int]] = defaultdict(set)
        self.stop_sending = asyncio.Event()

    def missing(self, agents: list[str]) -> int:
        return sum(1 for a in agents for m in self.sent_at if m not in self.received[a])


async def visitor(
    number: int, server: str, brand: str, args, results: Results, http: httpx.AsyncClient
) -> None:
    rng = random.Random(args.seed + number)
    # Visitors arrive over the ramp, not all in the same instant.
    await asyncio.sleep(args.ramp * number / args.visitors)
    try:
        response = await http.post(f"{server}/widget/api/session", json={"brand": brand})
        response.raise_for_status()
        token = response.json()["token"]
    except (httpx.HTTPError, KeyError, ValueError):
        results.visitors_failed += 1
        return
    socket_url = server.replace("http", "ws") + f"/ws/widget/?token={token}"
    async with websockets.connect(socket_url, max_queue=None) as socket:
        await socket.send(json.dumps({"type": "resume", "last_event_id": 0}))
        reader = asyncio.create_task(drain_socket(socket))
        await asyncio.sleep(rng.uniform(0, args.interval))
        k = 0
        while not results.stop_sending.is_set():
            k += 1
            started = time.monotonic()
            results.sent += 1
            try:
                response = await http.post(
                    f"{server}/widget/api/messages",
                    data={"text": f"visitor {number} message {k}", "client_id": uuid.uuid4().hex},
                    headers={"Authorization": f"Bearer {token}"},
                )
                response.raise_for_status()
                message_id = response.json()["message"]["id"]
                results.sent_at[message_id] = started
                results.acked_at[message_id] = time.monotonic()
                # As the widget does after each acknowledgement (joins the customer's
                # group once the first message has created the customer).
                with contextlib.suppress(websockets.ConnectionClosed):
                    await socket.send(json.dumps({"type": "resume", "last_event_id": 0}))
            except (httpx.HTTPError, KeyError, ValueError):
                results.failed += 1
            await asyncio.sleep(rng.expovariate(1 / args.interval))
        await results.stop_sending.wait()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
            await reader


async def drain_socket(socket) -> None:
    """A visitor's widget reads its frames (its own messages come back) and pings."""
    last_ping = time.monotonic()
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(socket.recv(), PING_SECONDS)
        if time.monotonic() - last_ping >= PING_SECONDS:
            await socket.send('{"type":"ping"}')
            last_ping = time.monotonic()


async def agent(name: str, server: str, sessionid: str, results: Results, ready) -> None:
    url = server.replace("http", "ws") + "/ws/console/"
    headers = {"Cookie": f"sessionid={sessionid}", "Origin": server}
    async with websockets.connect(url, additional_headers=headers, max_queue=None) as socket:
        await socket.send(json.dumps({"type": "resume", "last_event_id": 0}))
        ready.set()
        last_ping = time.monotonic()
        while True:
            try:
                raw = await asyncio.wait_for(socket.recv(), PING_SECONDS)
            except TimeoutError:
                raw = None
            now = time.monotonic()
            if now - last_ping >= PING_SECONDS:
                await socket.send('{"type":"ping"}')
                last_ping = now
            if raw is None:
                continue
            frame = json.loads(raw)
            if frame.get("type") != "event" or frame.get("kind") not in CUSTOMER_KINDS:
                continue
            message_id = frame["payload"].get("id")
            if frame["payload"].get("author_kind", "customer") != "customer":
                continue
            results.frames_per_message[(name, message_id)] += 1
            results.events_per_message[(name, message_id)].add(frame["id"])
            results.received[name].setdefault(message_id, now)


async def redis_baseline(url: str, stop: asyncio.Event, samples: list[float]) -> None:
    """Raw Redis pub/sub round trips, one every 100 ms, while the load runs."""
    client = aioredis.from_url(url)
    channel = f"bench-baseline-{uuid.uuid4().hex}"
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=1)  # the subscription's confirmation
    while not stop.is_set():
        started = time.monotonic()
        await client.publish(channel, b"x")
        while (await pubsub.get_message(timeout=5)) is None:
            pass
        samples.append(time.monotonic() - started)
        await asyncio.sleep(0.1)
    await pubsub.aclose()
    await client.aclose()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def run(args, site: Site, visitors_server: str, agents_server: str, sessions, brand):
    results = Results()
    limits = httpx.Limits(max_connections=args.visitors, max_keepalive_connections=args.visitors)
    baseline: list[float] = []
    stop_baseline = asyncio.Event()
    agent_names = [f"agent{i}" for i in range(len(sessions))]
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        ready = [asyncio.Event() for _ in sessions]
        agents = [
            asyncio.create_task(agent(n, agents_server, s["sessionid"], results, r))
            for n, s, r in zip(agent_names, sessions, ready, strict=True)
        ]
        for event in ready:
            await event.wait()
        baseline_task = asyncio.create_task(redis_baseline(args.redis_url, stop_baseline, baseline))
        visitors = [
            asyncio.create_task(visitor(i, visitors_server, brand, args, results, http))
            for i in range(args.visitors)
        ]
        await asyncio.sleep(args.ramp + args.duration)
        results.stop_sending.set()
        # A visitor stuck on a request or a closing handshake does not hold the results.
        _, stuck = await asyncio.wait(visitors, timeout=60)
        for task in stuck:
            task.cancel()
        stop_baseline.set()
        await baseline_task
        deadline = time.monotonic() + args.drain
        while results.missing(agent_names) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        for task in agents:
            task.cancel()
    return results, baseline, agent_names


def main() -> None:
    args = parse_arguments()
    database_url = args.database_url or DEFAULT_DATABASE_URL
    create_database_if_missing(database_url)
    run_id = uuid.uuid4().hex[:8]
    folder = Path(tempfile.mkdtemp(prefix="comptoir-bench-realtime-"))
    site = Site(
        folder,
        extra_env={
            "DATABASE_URL": database_url,
            "REDIS_URL": args.redis_url,
            "REDIS_PREFIX": f"bench{run_id}",
        },
    )
    site.manage("migrate", "--no-input")
    brand = site.python(SEED.format(run=run_id, agents=args.agents))["brand"]
    sessions = [
        site.python(AGENT_SESSION_CODE.format(username=f"bench-{run_id}-{i}"))
        for i in range(args.agents)
    ]
    visitors_server = site.start_server()
    agents_server = site.start_server()
    try:
        results, baseline, agent_names = asyncio.run(
            run(args, site, visitors_server, agents_server, sessions, brand)
        )
    finally:
        site.stop()
    acknowledged = len(results.sent_at)
    latencies = [
        received_at - results.sent_at[m]
        for name in agent_names
        for m, received_at in results.received[name].items()
        if m in results.sent_at
    ]
    acks = [results.acked_at[m] - results.sent_at[m] for m in results.sent_at]
    after_ack = [
        received_at - results.acked_at[m]
        for name in agent_names
        for m, received_at in results.received[name].items()
        if m in results.acked_at
    ]
    received_pairs = sum(
        1 for name in agent_names for m in results.received[name] if m in results.sent_at
    )
    duplicated = sum(1 for count in results.frames_per_message.values() if count > 1)
    stored_twice = sum(1 for ids in results.events_per_message.values() if len(ids) > 1)
    warnings = Counter()
    for log in site.logs:
        for line in log.read_text().splitlines():
            for needle in WARNINGS:
                if needle in line:
                    warnings[needle] += 1
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    b50, b99 = percentile(baseline, 50) * 1000, percentile(baseline, 99) * 1000
    print(f"python: {platform.python_version()}; machine: {os.cpu_count()} CPUs, load {load}")
    print(f"database: {database_url}; redis: {args.redis_url}")
    print(
        f"visitors: {args.visitors} on one process (arriving over {args.ramp:.0f} s), agents: "
        f"{args.agents} on another; {args.duration:.0f} s after the ramp, one message per "
        f"visitor every {args.interval:.1f} s on average"
    )
    print(
        f"acknowledgement p50/p99: {percentile(acks, 50) * 1000:.0f}/"
        f"{percentile(acks, 99) * 1000:.0f} ms; acknowledgement→agent p50/p99: "
        f"{percentile(after_ack, 50) * 1000:.0f}/{percentile(after_ack, 99) * 1000:.0f} ms"
    )
    print(
        f"server warnings: {dict(warnings) or 'none'}; failed posts: {results.failed}; "
        f"visitors without a session: {results.visitors_failed}"
    )
    print(f"sent: {results.sent}")
    print(f"acknowledged: {acknowledged}")
    print(f"received: {received_pairs} (of {acknowledged * args.agents} agent x message)")
    print(f"lost: {acknowledged * args.agents - received_pairs}")
    print(f"duplicated: {duplicated} (of which under two event ids: {stored_twice})")
    print(f"p50: {p50:.0f} ms")
    print(f"p99: {p99:.0f} ms")
    print(f"baseline p50: {b50:.2f} ms (raw Redis pub/sub round trip, same run)")
    print(f"baseline p99: {b99:.2f} ms")
    print(f"ratio p50: {p50 / b50:.0f}")
    print(f"ratio p99: {p99 / b99:.0f}")


if __name__ == "__main__":
    main()
