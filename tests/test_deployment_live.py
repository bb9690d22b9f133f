"""The layout of docs/deployment.md, run as documented: PostgreSQL, Redis, two
``comptoir serve`` web processes and one ``comptoir worker``, each its own process.

A customer's mail posted to web process A reaches an agent's console socket on web
process B (through Redis), the acknowledgement job it queued is run by the worker
(the mail reaches the SMTP relay), and the agent's reply, written on B, is
delivered by the worker too. Both web processes report ready and serve metrics.
"""

import asyncio
import json
import re
import subprocess
import urllib.request
import uuid

import pytest

from tests.live_server import COMPTOIR, Site, agent_session
from tests.own_services import OwnPostgres, OwnRedis
from tests.smtp_server import SmtpServer
from tests.test_email_live import CUSTOMER_MAIL, wait_for_mails
from tests.test_multiprocess import console_events, next_event
from tests.waiting import wait_until

pytestmark = [pytest.mark.live, pytest.mark.workers]

SEED = """
import json
from django.contrib.auth import get_user_model
from comptoir.tenancy.models import ApiToken, Brand, Membership
from comptoir.touchpoints.email.models import Mailbox
brand = Brand.objects.create(name="Maison Live", slug="maison-live")
Mailbox.objects.create(brand=brand, address="support@maison.example", sender_name="Maison")
users = get_user_model().objects
agent = Membership.objects.create(
    user=users.create_user("mailagent", password="x-live-password-1"), brand=brand, role="agent"
)
admin = Membership.objects.create(
    user=users.create_user("mailadmin", password="x-live-password-2"), brand=brand, role="admin"
)
print(json.dumps({
    "agent": ApiToken.issue(agent, "replies")[1],
    "inbound": ApiToken.issue(admin, "mail provider")[1],
}))
"""


@pytest.fixture
def deployment(tmp_path):
    """PostgreSQL and Redis of the test's own, an SMTP relay, the documented variables."""
    database, redis, relay = OwnPostgres(), OwnRedis(), SmtpServer().start()
    database.start()
    redis.start()
    site = Site(
        tmp_path,
        extra_env={
            "DATABASE_URL": database.url(),
            "REDIS_URL": redis.url,
            "REDIS_PREFIX": f"t{uuid.uuid4().hex[:8]}",
            "EMAIL_URL": f"smtp://127.0.0.1:{relay.port}",
            "SECRET_KEY": "deployment-test-secret-key-" + uuid.uuid4().hex,
            "OUTBOX_RETRY_BASE_SECONDS": "1",
        },
    )
    workers: list[subprocess.Popen] = []
    try:
        yield site, relay, workers, database
    finally:
        for worker in workers:
            worker.terminate()
        site.stop()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        relay.stop()
        redis.stop()
        database.remove()


def api(url: str, token: str, body: bytes, content_type: str) -> dict:
    request = urllib.request.Request(
        url, body, headers={"Authorization": f"Bearer {token}", "Content-Type": content_type}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_two_web_processes_and_a_worker_share_postgresql_and_redis(deployment, tmp_path):
    site, relay, workers, database = deployment
    site.manage("migrate", "--no-input")  # once, before the processes start
    tokens = site.python(SEED)
    web_a = site.start_server()
    web_b = site.start_server()
    worker_log = tmp_path / "worker.log"
    workers.append(
        subprocess.Popen(
            [*COMPTOIR, "worker", "--concurrency", "2"],
            # Its own direct URL, as behind PgBouncer (here the same server).
            env={**site.env, "TASKS_DATABASE_URL": database.url()},
            stdout=worker_log.open("w"),
            stderr=subprocess.STDOUT,
        )
    )
    for server in (web_a, web_b):
        with urllib.request.urlopen(f"{server}/readyz", timeout=10) as response:
            assert json.loads(response.read())["checks"] == {
                "database": {"ok": True},
                "redis": {"ok": True},
            }
    session = agent_session(site, "mailagent")

    async def scenario() -> dict:
        socket, _ = await console_events(web_b, session["sessionid"], 0)
        stored = await asyncio.to_thread(
            api,
            f"{web_a}/api/inbound/email",
            tokens["inbound"],
            CUSTOMER_MAIL.encode(),
            "message/rfc822",
        )
        assert stored["outcome"] == "ingested"
        while True:
            event = await next_event(socket)
            if event["kind"] in ("conversation.created", "message.created"):
                break
        await socket.close()
        assert event["conversation_id"] == stored["conversation_id"]
        return stored

    stored = asyncio.run(scenario())
    acknowledgement = wait_for_mails(relay, 1, seconds=90)[0].message
    assert acknowledgement["In-Reply-To"] == "<live.1@client.example>"

    conversation = stored["conversation_id"]
    api(
        f"{web_b}/api/conversations/{conversation}/messages",
        tokens["agent"],
        json.dumps({"text": "Bonjour Paul, votre colis arrive demain."}).encode(),
        "application/json",
    )
    reply = wait_for_mails(relay, 2, seconds=90)[1].message
    assert reply["Subject"] == f"Re: Colis en retard [#{conversation}]"
    assert "votre colis arrive demain" in reply.get_body(("plain",)).get_content()
    assert workers[0].poll() is None, worker_log.read_text()

    # Every delivery done, no job left: the web processes' metrics say so.
    def metrics_with_an_empty_queue() -> str | None:
        with urllib.request.urlopen(f"{web_a}/metrics", timeout=10) as response:
            metrics = response.read().decode()
        return None if re.search(r"^comptoir_task_queue_depth\{", metrics, re.M) else metrics

    metrics = wait_until(metrics_with_an_empty_queue, "no job left in the queue")
    assert 'comptoir_messages_ingested_total{channel="email"} 1.0' in metrics
