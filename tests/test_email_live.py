"""End to end: a real ``comptoir serve --worker --smtp`` process and a real SMTP relay.

The customer's mail enters through the server's SMTP listener, the worker
thread sends the acknowledgement, an agent answers over the REST API, and the
worker sends the reply to the relay (aiosmtpd in the test process), threaded
on the customer's mail.
"""

import json
import re
import smtplib
import time
import urllib.request

import pytest

from tests.live_server import Site, free_port
from tests.smtp_server import Received, SmtpServer

pytestmark = pytest.mark.live

SEED = """
import json
from django.contrib.auth import get_user_model
from comptoir.tenancy.models import ApiToken, Brand, Membership
from comptoir.touchpoints.email.models import Mailbox
brand = Brand.objects.create(name="Maison Live", slug="maison-live")
Mailbox.objects.create(brand=brand, address="support@maison.example", sender_name="Maison")
user = get_user_model().objects.create_user("mailagent", password="x-live-password-1")
membership = Membership.objects.create(user=user, brand=brand, role="agent")
print(json.dumps({"token": ApiToken.issue(membership, "live test")[1]}))
"""

CUSTOMER_MAIL = (
    "From: Paul Martin <paul@client.example>\r\n"
    "To: support@maison.example\r\n"
    "Subject: Colis en retard\r\n"
    "Message-ID: <live.1@client.example>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Bonjour, ma commande 1234 n'est pas arrivée.\r\n"
)


@pytest.fixture
def relay():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def site(tmp_path, relay):
    site = Site(
        tmp_path,
        extra_env={
            "EMAIL_URL": f"smtp://127.0.0.1:{relay.port}",
            "OUTBOX_RETRY_BASE_SECONDS": "1",
        },
    )
    site.manage("migrate", "--no-input")
    yield site
    site.stop()


def wait_for_mails(relay: SmtpServer, count: int, seconds: float = 30) -> list[Received]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(relay.received) >= count:
            return relay.received
        time.sleep(0.1)
    raise AssertionError(f"{len(relay.received)} mail(s) received, expected {count}")


def test_serve_worker_acknowledges_then_sends_the_agents_reply(site, relay):
    token = site.python(SEED)["token"]
    smtp_port = free_port()
    server = site.start_server(options=("--worker", "--smtp", f"127.0.0.1:{smtp_port}"))

    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        smtp.sendmail("paul@client.example", ["support@maison.example"], CUSTOMER_MAIL.encode())

    acknowledgement = wait_for_mails(relay, 1)[0].message
    assert acknowledgement["Auto-Submitted"] == "auto-replied"
    assert acknowledgement["In-Reply-To"] == "<live.1@client.example>"
    conversation_id = int(re.search(r"\[#(\d+)\]", acknowledgement["Subject"]).group(1))

    request = urllib.request.Request(
        f"{server}/api/conversations/{conversation_id}/messages",
        json.dumps({"text": "Bonjour Paul, votre colis arrive demain."}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201

    envelope = wait_for_mails(relay, 2)[1]
    reply = envelope.message
    assert envelope.rcpt_tos == ["paul@client.example"]
    assert reply["From"] == "Maison <support@maison.example>"
    assert reply["Subject"] == f"Re: Colis en retard [#{conversation_id}]"
    assert reply["In-Reply-To"] == "<live.1@client.example>"
    assert reply["References"].split() == [
        "<live.1@client.example>",
        acknowledgement["Message-ID"],
    ]
    assert reply["Auto-Submitted"] is None
    assert "votre colis arrive demain" in reply.get_body(("plain",)).get_content()
    assert reply["Message-ID"] != acknowledgement["Message-ID"]
