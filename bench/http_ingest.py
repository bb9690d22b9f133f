"""HTTP ingest benchmark: concurrent widget visitors and WhatsApp webhooks against real servers.

Starts ``--servers`` (2) ``comptoir serve`` processes on a fresh PostgreSQL
database (dropped and created again by each run) with one brand and one
WhatsApp account, then drives simulated customers at them with an async HTTP
client, each waiting for the answer before sending again, as a real widget
or Meta does:

- widget visitors: ``POST /widget/api/session`` for a token, then their
  messages, multipart (``text``, ``client_id``) as the widget's ``FormData``,
  to ``POST /widget/api/messages``; a visitor leaves after
  ``--messages-per-visitor`` messages and a new one takes its place;
- WhatsApp senders: one text message per webhook, signed with the account's
  app secret (``X-Hub-Signature-256``), to ``POST /webhooks/whatsapp/<brand>``.

A message counts once it is acknowledged (201 from the widget, 200 with
``received: 1`` from the webhook, both answered only after commit); every
acknowledged message is then looked up in the database. Then the servers
stop and the same database server runs ``bench/ingest.py``'s in-process loop
(``ingest_message``, one message after the other) on a fresh brand, for the
rate the HTTP path is compared with.

    .venv/bin/python bench/http_ingest.py                     # 2 servers, Redis, 3000 messages
    .venv/bin/python bench/http_ingest.py --n 5000 --visitors 48 --whatsapp-senders 16
    .venv/bin/python bench/http_ingest.py --redis-url ''      # in-memory layer per process
    .venv/bin/python bench/http_ingest.py --py-spy var/bench/spy   # profiles of the servers

Prints ``http: <n> msg/s``, ``in-process: <n> msg/s`` and ``ratio: <x>``
(http / in-process) on their own lines, with context lines around them
(machine and load, database, concurrency, latencies, CPU per message).
"""

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import ingest as in_process  # noqa: E402  (bench/ingest.py: the in-process loop)
from bench_secret import ensure_secret_key  # noqa: E402
from postgres_admin import recreate_database  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/comptoir_httpbench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
PHONE_NUMBER_ID = "100200300400"
APP_SECRET = "bench-app-secret"  # noqa: S105 (a bench account's, in a throw-away database)
WARM_UP_MESSAGES = 100
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="messages acknowledged over HTTP")
    parser.add_argument("--servers", type=int, default=2, help="comptoir serve processes")
    parser.add_argument("--visitors", type=int, default=48, help="concurrent widget visitors")
    parser.add_argument(
        "--whatsapp-senders", type=int, default=16, help="concurrent WhatsApp senders"
    )
    parser.add_argument("--messages-per-visitor", type=int, default=10)
    parser.add_argument(
        "--in-process-n", type=int, default=2000, help="messages of the in-process loop"
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="PostgreSQL; the database is dropped and created again",
    )
    parser.add_argument(
        "--redis-url",
        default=DEFAULT_REDIS_URL,
        help="the servers' channel layer (as deployed); '' for one in-memory layer each",
    )
    parser.add_argument(
        "--server-option",
        action="append",
        default=[],
        metavar="OPTION",
        help="passed on to comptoir serve (repeat it), e.g. --server-option=--http=h11",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set in the servers' environment (repeat it), e.g. CONN_MAX_AGE=0",
    )
    parser.add_argument(
        "--py-spy",
        metavar="PREFIX",
        help="profile the servers (py-spy, GIL holders) while timed: PREFIX-<port>.folded",
    )
    parser.add_argument(
        "--client",
        choices=("keep-alive", "httpx"),
        default="keep-alive",
        help="keep-alive: one asyncio connection per customer (light); httpx: its AsyncClient",
    )
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


# --- the database -----------------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    brand_slug: str
    brand_id: int
    warm_up_slug: str


def set_up_scene() -> Scene:
    """Migrations, a brand with a WhatsApp account, and another brand for the warm-up."""
    from django.core.management import call_command
    from django.db import connection

    from comptoir.tenancy.models import Brand
    from comptoir.touchpoints.messaging.models import MessagingAccount

    call_command("migrate", verbosity=0)
    brand = Brand.objects.create(name="Bench", slug="bench")
    warm_up = Brand.objects.create(name="Bench warm-up", slug="bench-warm-up")
    for owner, number in ((brand, PHONE_NUMBER_ID), (warm_up, PHONE_NUMBER_ID + "9")):
        MessagingAccount.objects.create(
            brand=owner,
            provider="whatsapp",
            external_id=number,
            app_secret=APP_SECRET,
            verify_token="bench",  # noqa: S106
            api_base_url="http://127.0.0.1:9/v21.0",  # never called: text messages only
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return Scene(brand.slug, brand.pk, warm_up.slug)


# --- the servers ------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    spy: subprocess.Popen | None = None

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (its threads included), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_servers(arguments: argparse.Namespace, folder: Path) -> list[Server]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DEBUG"}}
    env.update(
        {
            "DATABASE_URL": arguments.database_url,
            "COMPTOIR_VAR_DIR": str(folder),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(BENCH_DIR.parent),
        }
    )
    if arguments.redis_url:
        env["REDIS_URL"] = arguments.redis_url
        env["REDIS_PREFIX"] = f"httpbench-{uuid.uuid4().hex[:8]}"
    for assignment in arguments.server_env:
        name, _, value = assignment.partition("=")
        env[name] = value
    servers = []
    for _ in range(arguments.servers):
        port = free_port()
        log = folder / f"server-{port}.log"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "comptoir",
                "serve",
                "--port",
                str(port),
                "--log-level",
                "warning",
                *arguments.server_option,
            ],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        servers.append(Server(f"http://127.0.0.1:{port}", process, log))
    for server in servers:
        wait_until_answering(server)
    for server in servers:
        wait_until_idle(server)
    return servers


def wait_until_answering(server: Server) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"server {server.url} exited:\n{server.log.read_text()}")
        try:
            httpx.get(f"{server.url}/console/login/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"server {server.url} did not start:\n{server.log.read_text()}")


def wait_until_idle(server: Server, timeout: float = 120) -> None:
    """Until the server's start-up work (the assistant's models load in a thread) is over.

    Idle: under 5 % of a core over half a second.
    """
    deadline = time.monotonic() + timeout
    before = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        after = server.cpu_seconds()
        if after - before < 0.025:
            return
        before = after
    raise SystemExit(f"server {server.url} still busy after {timeout:.0f} s")


def start_py_spy(servers: list[Server], prefix: str) -> None:
    executable = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    for server in servers:
        port = server.url.rsplit(":", 1)[1]
        server.spy = subprocess.Popen(
            [
                executable,
                "record",
                "--pid",
                str(server.process.pid),
                "--rate",
                "200",
                "--threads",
                "--gil",
                "--format",
                "raw",
                "--output",
                f"{prefix}-{port}.folded",
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def stop_servers(servers: list[Server]) -> None:
    for server in servers:
        if server.spy is not None:
            server.spy.send_signal(signal.SIGINT)
            server.spy.wait(timeout=60)
    for server in servers:
        server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()


# --- the simulated customers ------------------------------------------------------------


@dataclass
class Tally:
    """What the customers saw: acknowledgements, their latencies, and what was refused."""

    target: int
    widget: int = 0
    whatsapp: int = 0
    sessions: int = 0
    latencies: list[float] = field(default_factory=list)
    session_latencies: list[float] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    widget_ids: list[str] = field(default_factory=list)
    reconnections: int = 0
    whatsapp_ids: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> int:
        return self.widget + self.whatsapp

    def done(self) -> bool:
        return self.acknowledged >= self.target

    def refuse(self, what: str, status: int, body: str) -> None:
        key = f"{what} {status}"
        if key not in self.refused:
            print(f"refused: {key}: {body[:300]}", file=sys.stderr)
        self.refused[key] = self.refused.get(key, 0) + 1


class KeepAliveConnection:
    """One HTTP/1.1 keep-alive connection, as a browser keeps to a site: POST, read the answer.

    Written on asyncio streams because httpx's client costs about 8 ms of CPU per
    request, as much as the server's work, on the same two cores. The answers of
    these endpoints always carry a Content-Length. A connection the server closed
    while idle is opened again and the request sent again: every request of this
    bench is idempotent (a widget ``client_id``, a WhatsApp message id).
    """

    def __init__(self, url: str) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reconnections = 0

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        for attempt in range(3):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                self.writer.write(request)
                return await self._answer()
            except (ConnectionError, asyncio.IncompleteReadError):
                self.writer.close()
                self.reader = self.writer = None
                self.reconnections += 1
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _answer(self) -> tuple[int, bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        closing = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                closing = True
        if length is None:
            raise SystemExit(f"an answer without Content-Length: {head!r}")
        body = await self.reader.readexactly(length)
        if closing:
            self.writer.close()
            self.reader = self.writer = None
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class HttpxConnection:
    """The same interface on httpx's AsyncClient (``--client httpx``)."""

    reconnections = 0

    def __init__(self, client, url: str) -> None:
        self.client, self.url = client, url

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        response = await self.client.post(f"{self.url}{path}", content=body, headers=headers)
        return response.status_code, response.content

    async def close(self) -> None:
        pass


def multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    """A form as the widget's ``FormData`` sends it: body and Content-Type."""
    boundary = f"----comptoirbench{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return body, f"multipart/form-data; boundary={boundary}"


async def widget_visitor(http, brand_slug: str, tally: Tally, rng, per: int) -> None:
    """Visitors one after another: a session, then ``per`` messages, each awaiting its answer."""
    while not tally.done():
        started = time.perf_counter()
        status, body = await http.post(
            "/widget/api/session",
            json.dumps({"brand": brand_slug, "language": "fr"}).encode(),
            {"Content-Type": "application/json"},
        )
        if status != 200:
            tally.refuse("session", status, body.decode())
            continue
        tally.session_latencies.append(time.perf_counter() - started)
        tally.sessions += 1
        token = json.loads(body)["token"]
        for _ in range(per):
            if tally.done():
                return
            form, content_type = multipart(
                {"text": rng.choice(in_process.TEXTS), "client_id": uuid.uuid4().hex}
            )
            headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
            started = time.perf_counter()
            status, body = await http.post("/widget/api/messages", form, headers)
            if status != 201:
                tally.refuse("widget message", status, body.decode())
                continue
            tally.latencies.append(time.perf_counter() - started)
            tally.widget += 1
            tally.widget_ids.append(json.loads(body)["message"]["id"])


def whatsapp_body(sender: str, wamid: str, text: str, phone_number_id: str) -> bytes:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA-BENCH",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "33100000000",
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [{"profile": {"name": "Client"}, "wa_id": sender}],
                            "messages": [
                                {
                                    "from": sender,
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


async def whatsapp_sender(http, brand_slug: str, tally: Tally, rng, phone_number_id: str) -> None:
    """A WhatsApp customer: one signed webhook per message, as Meta delivers them."""
    from comptoir.touchpoints.messaging.signatures import signature_for

    sender = f"336{rng.randrange(10**8):08d}"
    while not tally.done():
        wamid = f"wamid.{uuid.uuid4().hex}"
        body = whatsapp_body(sender, wamid, rng.choice(in_process.TEXTS), phone_number_id)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature_for(body, APP_SECRET),
        }
        started = time.perf_counter()
        status, answer = await http.post(f"/webhooks/whatsapp/{brand_slug}", body, headers)
        if status != 200 or json.loads(answer).get("received") != 1:
            tally.refuse("whatsapp webhook", status, answer.decode())
            continue
        tally.latencies.append(time.perf_counter() - started)
        tally.whatsapp += 1
        tally.whatsapp_ids.append(wamid)


async def drive(
    servers: list[Server],
    brand_slug: str,
    phone_number_id: str,
    target: int,
    arguments: argparse.Namespace,
    seed: int,
) -> tuple[Tally, float]:
    """Every customer at once, spread over the servers, until ``target`` acknowledgements."""
    import httpx

    tally = Tally(target=target)
    rng = random.Random(seed)
    concurrency = arguments.visitors + arguments.whatsapp_senders
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:

        def connection(i: int):
            url = servers[i % len(servers)].url
            if arguments.client == "httpx":
                return HttpxConnection(client, url)
            return KeepAliveConnection(url)

        connections = [connection(i) for i in range(concurrency)]
        customers = [
            widget_visitor(
                connections[i],
                brand_slug,
                tally,
                random.Random(rng.random()),
                arguments.messages_per_visitor,
            )
            for i in range(arguments.visitors)
        ] + [
            whatsapp_sender(
                connections[arguments.visitors + i],
                brand_slug,
                tally,
                random.Random(rng.random()),
                phone_number_id,
            )
            for i in range(arguments.whatsapp_senders)
        ]
        started = time.perf_counter()
        await asyncio.gather(*customers)
        elapsed = time.perf_counter() - started
        for each in connections:
            await each.close()
    tally.reconnections = sum(each.reconnections for each in connections)
    return tally, elapsed


def check_stored(brand_id: int, tally: Tally) -> None:
    """Every acknowledged message is in the database, once: else the bench fails."""
    from comptoir.conversations.models import Message

    messages = Message.objects.filter(brand_id=brand_id)
    stored_widget = set(messages.filter(channel="webchat").values_list("pk", flat=True))
    stored_whatsapp = set(messages.filter(channel="whatsapp").values_list("external_id", flat=True))
    missing = len(set(tally.widget_ids) - stored_widget) + len(
        set(tally.whatsapp_ids) - stored_whatsapp
    )
    if missing or len(set(tally.widget_ids)) != tally.widget:
        raise SystemExit(f"{missing} acknowledged messages not stored (or acknowledged twice)")


# --- the in-process rate ----------------------------------------------------------------


def in_process_rate(arguments: argparse.Namespace) -> tuple[float, list[float]]:
    """bench/ingest.py's loop (warm-up, then timed) on fresh brands of the same database."""
    from comptoir.conversations.ingest import ingest_message
    from comptoir.tenancy.models import Brand

    def fresh_brand(label: str) -> Brand:
        suffix = uuid.uuid4().hex[:12]
        return Brand.objects.create(name=f"{label} {suffix}", slug=f"{label}-{suffix}")

    warm_up = fresh_brand("in-process-warm-up")
    for inbound in in_process.build_messages(
        warm_up, in_process.WARM_UP_MESSAGES, 10, arguments.seed + 1
    ):
        ingest_message(inbound)
    brand = fresh_brand("in-process")
    messages = in_process.build_messages(brand, arguments.in_process_n, 200, arguments.seed)
    elapsed, latencies = in_process.run_ingest(messages, ingest_message)
    return arguments.in_process_n / elapsed, latencies


# --- the report -------------------------------------------------------------------------


def milliseconds(values: list[float]) -> str:
    quantiles = statistics.quantiles(values, n=100)
    return f"p50 {quantiles[49] * 1000:.1f} ms, p95 {quantiles[94] * 1000:.1f} ms"


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    arguments = parse_arguments()
    os.environ["DATABASE_URL"] = arguments.database_url
    os.environ.pop("REDIS_URL", None)  # the in-process loop publishes in memory, as ingest.py
    os.environ["DEBUG"] = "0"
    ensure_secret_key()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    sys.path.insert(0, str(BENCH_DIR.parent))
    recreate_database(arguments.database_url)

    import django

    django.setup()
    from django.db import connection

    scene = set_up_scene()
    load_before = load_average()
    folder = Path(tempfile.mkdtemp(prefix="comptoir-httpbench-"))
    servers = start_servers(arguments, folder)
    try:
        # Warm-up on its own brand: imports, connections, statement caches (not timed).
        asyncio.run(
            drive(servers, scene.warm_up_slug, PHONE_NUMBER_ID + "9", WARM_UP_MESSAGES,
                  arguments, arguments.seed + 1)
        )  # fmt: skip
        if arguments.py_spy:
            start_py_spy(servers, arguments.py_spy)
        server_cpu = [server.cpu_seconds() for server in servers]
        client_cpu = process_cpu_seconds(os.getpid())
        tally, elapsed = asyncio.run(
            drive(servers, scene.brand_slug, PHONE_NUMBER_ID, arguments.n, arguments,
                  arguments.seed)
        )  # fmt: skip
        client_cpu = process_cpu_seconds(os.getpid()) - client_cpu
        server_cpu = [
            server.cpu_seconds() - cpu for server, cpu in zip(servers, server_cpu, strict=True)
        ]
    finally:
        stop_servers(servers)
    connection.close()
    check_stored(scene.brand_id, tally)
    load_between = load_average()
    in_process_per_second, in_process_latencies = in_process_rate(arguments)

    http_per_second = tally.acknowledged / elapsed
    print(f"database: {in_process.describe_database()}")
    print(f"python: {platform.python_version()} ({platform.python_implementation()})")
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, load average before "
        f"{load_before}, after the HTTP run {load_between}, at the end {load_average()}"
    )
    layer = "Redis" if arguments.redis_url else "in-memory (per process)"
    options = " ".join(arguments.server_option + arguments.server_env) or "defaults"
    print(f"client: {arguments.client}")
    print(f"servers: {arguments.servers} x comptoir serve ({options}), channel layer {layer}")
    print(
        f"concurrency: {arguments.visitors} widget visitors ({arguments.messages_per_visitor} "
        f"messages each, then a new session) + {arguments.whatsapp_senders} WhatsApp senders"
    )
    print(
        f"acknowledged: {tally.acknowledged} messages ({tally.widget} widget, "
        f"{tally.whatsapp} WhatsApp) in {elapsed:.1f} s, {tally.sessions} widget sessions, "
        f"refused: {tally.refused or 'none'}, reconnections: {tally.reconnections}; "
        "all acknowledged found stored"
    )
    print(
        f"http latency: {milliseconds(tally.latencies)}; "
        f"session {milliseconds(tally.session_latencies)}"
    )
    print(
        "cpu per message: servers "
        + " + ".join(f"{cpu / tally.acknowledged * 1000:.2f}" for cpu in server_cpu)
        + f" ms, client {client_cpu / tally.acknowledged * 1000:.2f} ms"
    )
    print(
        f"in-process loop: n {arguments.in_process_n}, one after the other, "
        f"latency {milliseconds(in_process_latencies)}"
    )
    print(f"http: {http_per_second:.0f} msg/s")
    print(f"in-process: {in_process_per_second:.0f} msg/s")
    print(f"ratio: {http_per_second / in_process_per_second:.2f}")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
