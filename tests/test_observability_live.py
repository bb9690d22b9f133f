"""Real outages under a real ``comptoir serve``: /readyz, graceful shutdown, JSON logs."""

import asyncio
import json
import signal
import subprocess
import urllib.error
import urllib.request

import pytest
import websockets

from tests.live_server import COMPTOIR, Site, agent_session, free_port
from tests.own_services import OwnPostgres, OwnRedis
from tests.test_multiprocess import SEED, console_events, post_json
from tests.waiting import wait_until

pytestmark = pytest.mark.live


def get(url: str) -> tuple[int, dict, dict]:
    """(status, JSON body, headers), whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), dict(error.headers)


def readiness(server: str) -> tuple[int, dict]:
    status, body, _ = get(f"{server}/readyz")
    return status, body


def test_readyz_answers_503_while_the_database_is_down(tmp_path):
    database = OwnPostgres()
    database.start()
    site = Site(tmp_path, extra_env={"DATABASE_URL": database.url()})
    try:
        server = site.start_server()
        assert readiness(server) == (200, {"status": "ok", "checks": {"database": {"ok": True}}})

        database.stop()
        status, body = readiness(server)
        assert status == 503
        assert body["status"] == "unavailable"
        assert body["checks"]["database"]["ok"] is False
        # Alive all the same: a liveness probe must not restart it for an outage.
        assert get(f"{server}/healthz")[0] == 200

        database.start()
        wait_until(lambda: readiness(server)[0] == 200, "/readyz back to 200")
    finally:
        site.stop()
        database.remove()


def test_readyz_answers_503_while_redis_is_down(tmp_path):
    redis = OwnRedis()
    redis.start()
    site = Site(tmp_path, extra_env={"REDIS_URL": redis.url})
    site.manage("migrate", "--no-input")
    try:
        server = site.start_server()
        assert readiness(server)[0] == 200

        redis.stop()
        status, body = readiness(server)
        assert status == 503
        assert body["checks"] == {
            "database": {"ok": True},
            "redis": {"ok": False, "error": "ConnectionError"},
        }

        redis.start()
        wait_until(lambda: readiness(server)[0] == 200, "/readyz back to 200")
    finally:
        site.stop()
        redis.stop()


def test_sigterm_closes_every_socket_with_1012_and_exits_cleanly(tmp_path):
    """1012 (service restart) tells clients to reconnect at once, to this or another process."""
    site = Site(tmp_path)
    site.manage("migrate", "--no-input")
    site.python(SEED)
    server = site.start_server()
    session = agent_session(site, "liveagent")
    visitor = post_json(f"{server}/widget/api/session", {"brand": "live"})

    async def scenario() -> list[int]:
        console, _ = await console_events(server, session["sessionid"], 0)
        widget = await websockets.connect(
            server.replace("http", "ws") + f"/ws/widget/?token={visitor['token']}"
        )
        await widget.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(widget.recv(), 10)) == {"type": "pong"}
        site.servers[0].send_signal(signal.SIGTERM)
        codes = []
        for socket in (console, widget):
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(socket.recv(), 20)
            codes.append(closed.value.rcvd.code)
        return codes

    try:
        assert asyncio.run(scenario()) == [1012, 1012]
        # uvicorn shuts down gracefully, then re-raises SIGTERM: systemd and process
        # managers count a SIGTERM exit as a clean stop.
        assert site.servers[0].wait(timeout=30) in (0, -signal.SIGTERM)
        assert "Traceback" not in site.logs[0].read_text()
    finally:
        site.stop()


def test_json_logs_are_one_object_per_line_with_the_request_id(tmp_path):
    site = Site(tmp_path, extra_env={"LOG_FORMAT": "json"})
    site.manage("migrate", "--no-input")
    server = site.start_server(log_level="info")
    try:
        request = urllib.request.Request(f"{server}/no-such-page")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(request, timeout=10)
        request_id = missing.value.headers["X-Request-ID"]

        def logged() -> list[dict]:
            lines = site.logs[-1].read_text().splitlines()
            return [json.loads(line) for line in lines if line.strip()]

        wait_until(
            lambda: any(e["message"] == "Not Found: /no-such-page" for e in logged()),
            "the 404 to be logged",
        )
    finally:
        site.stop()
    entries = logged()  # every line parses, uvicorn's included
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    (not_found,) = [e for e in entries if e["message"] == "Not Found: /no-such-page"]
    assert not_found["request_id"] == request_id
    assert not_found["logger"] == "django.request"
    assert any(e["logger"] == "uvicorn.access" and "/no-such-page" in e["message"] for e in entries)


COUNT_ONE_MESSAGE = """
import json
from comptoir.observability.metrics import MESSAGES_INGESTED
MESSAGES_INGESTED.labels(channel="email").inc()
print(json.dumps({}))
"""

RENDER = """
import json
from comptoir.observability.exposition import render_metrics
print(json.dumps({"text": render_metrics()[0].decode()}))
"""


def test_multiprocess_mode_adds_up_the_processes_of_a_machine(tmp_path):
    shared = tmp_path / "prometheus"
    shared.mkdir()
    site = Site(tmp_path, extra_env={"PROMETHEUS_MULTIPROC_DIR": str(shared)})
    site.manage("migrate", "--no-input")
    site.python(COUNT_ONE_MESSAGE)  # two processes, each counting one message…
    site.python(COUNT_ONE_MESSAGE)
    text = site.python(RENDER)["text"]  # …read by a third
    assert 'comptoir_messages_ingested_total{channel="email"} 2.0' in text


def test_a_worker_serves_its_own_metrics_on_its_port(tmp_path):
    site = Site(tmp_path)
    site.manage("migrate", "--no-input")
    port = free_port()
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [*COMPTOIR, "worker", "--metrics-port", str(port)], env=site.env, stdout=log, stderr=log
    )
    try:

        def scraped() -> str | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    return response.read().decode()
            except OSError:
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                return None

        wait_until(lambda: scraped() is not None, "the worker's metrics port")
        text = scraped()
        assert "# TYPE comptoir_messages_ingested_total counter" in text
        assert "# TYPE comptoir_realtime_events_published_total counter" in text
    finally:
        worker.terminate()
        worker.wait(timeout=30)
