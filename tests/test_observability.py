"""Health probes, /metrics and structured logs, in-process (outages: test_observability_live)."""

import json
import logging

import pytest
from channels.db import database_sync_to_async
from django.urls import reverse
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from comptoir.observability.logs import JsonFormatter, request_id
from comptoir.outbox import senders
from comptoir.outbox.senders import DeliveryError, register_sender
from comptoir.tasks import run_pending
from tests.factories import ingest_chat, make_agent, make_brand
from tests.test_outbox import TEST_CHANNEL, RecordingSender, queued
from tests.test_realtime import console_socket, receive_until

PUBLIC_ADDRESS = "203.0.113.9"


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    """/metrics as {(sample name, sorted labels): value}."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_healthz_answers_without_the_database_or_a_known_host(client):
    # No django_db mark: any query here would fail the test. A load balancer probes
    # by IP address, which ALLOWED_HOSTS does not list.
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_names_each_check(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    response = client.get("/readyz", HTTP_HOST="10.1.2.3")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True}, "redis": {"ok": True}},
    }


@pytest.mark.django_db
def test_readyz_without_redis_configured_checks_only_the_database(client, settings):
    settings.REDIS_URL = ""
    assert client.get("/readyz").json()["checks"] == {"database": {"ok": True}}


@pytest.mark.django_db
def test_probes_set_no_cookie_and_no_session(client):
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.cookies == {}
        assert "Vary" not in response


def test_metrics_refuse_clients_outside_the_allowed_networks(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR=PUBLIC_ADDRESS)
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.json()["detail"]


@pytest.mark.django_db
def test_metrics_accept_the_bearer_token_from_anywhere_and_only_it(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert (
        client.get(
            "/metrics", REMOTE_ADDR=PUBLIC_ADDRESS, HTTP_AUTHORIZATION="Bearer s3cret-scrape-token"
        ).status_code
        == 200
    )
    assert (
        client.get(
            "/metrics", REMOTE_ADDR=PUBLIC_ADDRESS, HTTP_AUTHORIZATION="Bearer wrong"
        ).status_code
        == 403
    )
    # A wrong token is refused even from an allowed network: a token presented is checked.
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403


@pytest.mark.django_db
def test_requests_are_counted_by_route_name_not_path(agent_client, brand):
    first = ingest_chat(brand, "Bonjour").conversation
    second = ingest_chat(brand, "Re", visitor_id="d" * 32).conversation
    key = (
        "comptoir_http_requests_total",
        (("method", "GET"), ("route", "console:conversation"), ("status", "200")),
    )
    before = scrape(agent_client).get(key, 0)
    for conversation in (first, second):
        url = reverse("console:conversation", args=[conversation.pk])
        assert agent_client.get(url).status_code == 200
    after = scrape(agent_client)
    assert after[key] == before + 2
    assert not any(str(first.pk) in dict(labels).get("route", "") for _, labels in after)
    latency = (
        "comptoir_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "console:conversation")),
    )
    assert after[latency] >= 2


@pytest.mark.django_db
def test_unknown_paths_share_one_series(client):
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    samples = scrape(client)
    assert (
        samples[
            (
                "comptoir_http_requests_total",
                (("method", "GET"), ("route", "unmatched"), ("status", "404")),
            )
        ]
        >= 2
    )


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_a_proxys_is_kept(client):
    made = client.get("/console/login/")["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/console/login/", HTTP_X_REQUEST_ID="lb-1234")["X-Request-ID"] == "lb-1234"
    # Not a request id: replaced rather than echoed into logs and headers.
    assert client.get("/console/login/", HTTP_X_REQUEST_ID="a b\r\n")["X-Request-ID"] != "a b"


@pytest.mark.django_db
def test_ingested_messages_are_counted_per_channel_once(client, brand):
    key = ("comptoir_messages_ingested_total", (("channel", "webchat"),))
    before = scrape(client).get(key, 0)
    ingest_chat(brand, "Bonjour", external_id="v:same")
    ingest_chat(brand, "Bonjour", external_id="v:same")  # a redelivery: not a new message
    ingest_chat(brand, "Encore")
    assert scrape(client)[key] == before + 2


@pytest.mark.django_db
def test_queue_depth_and_failed_deliveries_come_from_the_database(client, brand, agent):
    recording = RecordingSender()
    register_sender(TEST_CHANNEL, recording)
    try:

        def refused(delivery):
            raise DeliveryError("number not on WhatsApp", permanent=True)

        recording.behaviour = refused
        queued(brand, agent)
        samples = scrape(client)
        assert samples[("comptoir_task_queue_depth", (("queue", "outbox"),))] >= 1
        assert samples[("comptoir_task_queue_oldest_age_seconds", (("queue", "outbox"),))] >= 0
        run_pending()
        samples = scrape(client)
        assert ("comptoir_task_queue_depth", (("queue", "outbox"),)) not in samples
        failed = ("comptoir_outbox_deliveries_failed", (("channel", TEST_CHANNEL),))
        assert samples[failed] == 1
    finally:
        senders._senders.pop(TEST_CHANNEL, None)


def test_json_log_lines_carry_time_level_logger_message_and_request_id():
    formatter = JsonFormatter()
    token = request_id.set("req-42")
    try:
        record = logging.LogRecord(
            "comptoir.test", logging.WARNING, __file__, 1, "stored %s", ("Café ✓",), None
        )
        line = formatter.format(record)
    finally:
        request_id.reset(token)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "comptoir.test"
    assert entry["message"] == "stored Café ✓"
    assert entry["request_id"] == "req-42"
    assert entry["time"].endswith("+00:00")


@pytest.mark.django_db(transaction=True)
async def test_open_sockets_and_resume_sizes_are_measured():
    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    for text in ("Un", "Deux", "Trois"):
        await database_sync_to_async(ingest_chat)(brand, text)
    open_before = value("comptoir_websockets_open", stream="console")
    resumes_before = value("comptoir_realtime_resume_events_count", stream="console")
    replayed_before = value("comptoir_realtime_resume_events_sum", stream="console")

    socket = console_socket(agent.user)
    assert (await socket.connect())[0]
    assert value("comptoir_websockets_open", stream="console") == open_before + 1
    await socket.send_json_to({"type": "resume", "last_event_id": 0})
    await receive_until(socket, "resumed")
    assert value("comptoir_realtime_resume_events_count", stream="console") == resumes_before + 1
    # Three messages: each opened or joined a conversation, one event each at least.
    assert value("comptoir_realtime_resume_events_sum", stream="console") >= replayed_before + 3
    await socket.disconnect()
    assert value("comptoir_websockets_open", stream="console") == open_before


@pytest.mark.django_db
def test_allowed_networks_are_a_setting(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    assert client.get("/metrics", REMOTE_ADDR=PUBLIC_ADDRESS).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
