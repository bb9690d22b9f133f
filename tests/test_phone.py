"""Phone channel: call-event webhooks (generic and Twilio), call threading, click-to-call."""

import base64
import hashlib
import hmac
import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl

import pytest
from django.urls import reverse

from comptoir.conversations.inbound import IdentityClaim
from comptoir.conversations.models import Channel, Contact, Message
from comptoir.customers.models import Identity, IdentityKind
from comptoir.events.models import Event
from comptoir.tenancy.models import Role
from comptoir.touchpoints.phone.models import Call, CallStatus, PhoneLine, Provider
from comptoir.touchpoints.phone.providers import log_provider
from comptoir.touchpoints.phone.signatures import twilio_signature
from tests.factories import ingest_chat, make_agent

SECRET = "whsec-test-4242"
TWILIO_TOKEN = "twilio-token-4242"
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
LINE = "+33180000001"
CALLER = "+33612345678"
T0 = datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def line(brand):
    return PhoneLine.objects.create(
        brand=brand,
        number=LINE,
        provider=Provider.LOG,
        webhook_secret=SECRET,
        twilio_account_sid=TWILIO_SID,
        twilio_auth_token=TWILIO_TOKEN,
    )


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def event(kind: str, at: datetime, **extra) -> dict:
    payload = {
        "event_id": f"evt-{kind}-{at.timestamp()}",
        "call_id": "call-1",
        "event": kind,
        "timestamp": at.isoformat(),
        "direction": "inbound",
        "from": CALLER,
        "to": LINE,
    }
    payload.update(extra)
    return payload


def post_generic(client, brand, payload, *, signature: str | None = None, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {}
    signature = sign(body) if signature is None else signature
    if signature:
        headers["HTTP_X_COMPTOIR_SIGNATURE"] = signature
    url = reverse("phone:generic_events", args=[brand.slug])
    return client.post(url, data=body, content_type="application/json", **headers)


def twilio_reference_signature(token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's algorithm written out independently of the code under test."""
    data = url
    for key in sorted(params):
        data += key + params[key]
    mac = hmac.new(token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def post_twilio(client, brand, params: dict[str, str], *, token: str | None = TWILIO_TOKEN):
    path = reverse("phone:twilio_voice", args=[brand.slug])
    headers = {}
    if token is not None:
        headers["HTTP_X_TWILIO_SIGNATURE"] = twilio_reference_signature(
            token, f"http://testserver{path}", params
        )
    return client.post(path, data=params, **headers)


# Signatures


def test_twilio_signature_matches_the_documented_example():
    # The example of Twilio's "Validating requests" documentation and libraries.
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert twilio_signature("12345", url, params) == twilio_reference_signature(
        "12345", url, dict(params)
    )
    assert twilio_signature("54321", url, params) != "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


# Generic webhook


def test_inbound_call_lifecycle_computes_wait_and_talk_time(client, brand, line, agent):
    agent.user.email = "camille@example.org"
    agent.user.save()
    assert post_generic(client, brand, event("queued", T0)).status_code == 200
    assert (
        post_generic(client, brand, event("ringing", T0 + timedelta(seconds=5))).status_code == 200
    )
    answered = event("answered", T0 + timedelta(seconds=42), agent="camille@example.org")
    assert post_generic(client, brand, answered).status_code == 200
    response = post_generic(client, brand, event("ended", T0 + timedelta(seconds=232)))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "completed" and body["duplicate"] is False

    call = Call.objects.get()
    assert call.direction == "in" and call.status == CallStatus.COMPLETED
    assert (call.wait_seconds, call.talk_seconds) == (42, 190)
    assert call.agent == agent and call.line == line
    contact = call.contact
    assert contact.channel == Channel.PHONE and contact.direction == "in"
    assert contact.started_at == T0 and contact.ended_at == T0 + timedelta(seconds=232)
    assert contact.first_response_at == T0 + timedelta(seconds=42)
    conversation = contact.conversation
    assert conversation.customer.identities.get().value == CALLER
    assert conversation.first_response_at == T0 + timedelta(seconds=42)
    # The agent who answered now handles the conversation.
    conversation.refresh_from_db()
    assert conversation.assignee == agent
    summary = call.summary_message
    # Written in the brand's language (French by default).
    assert "Appel entrant du +33612345678" in summary.text and "3:10" in summary.text
    events = Event.objects.filter(conversation=conversation).order_by("id")
    kinds = list(events.values_list("kind", flat=True))
    assert kinds[0] == "conversation.created" and kinds.count("call.updated") == 4

    client.force_login(agent.user)
    page = client.get(reverse("console:conversation", args=[conversation.pk])).content.decode()
    assert f'data-call-id="{call.pk}"' in page
    assert "Incoming call from +33612345678" in page
    assert "waited 0:42" in page and "talked 3:10" in page
    assert f"Answered by {agent.display_name}" in page


def test_out_of_order_events_give_the_same_result(client, brand, line):
    for payload in (
        event("ended", T0 + timedelta(seconds=232), status="completed"),
        event("answered", T0 + timedelta(seconds=42)),
        event("ringing", T0 + timedelta(seconds=3)),
        event("queued", T0),
    ):
        assert post_generic(client, brand, payload).status_code == 200
    call = Call.objects.get()
    assert call.status == CallStatus.COMPLETED
    assert (call.queued_at, call.answered_at) == (T0, T0 + timedelta(seconds=42))
    assert (call.wait_seconds, call.talk_seconds) == (42, 190)
    assert Contact.objects.count() == 1 and Message.objects.count() == 1


def test_an_answer_reported_after_a_no_answer_ending_still_counts(client, brand, line):
    post_generic(client, brand, event("queued", T0))
    post_generic(client, brand, event("ended", T0 + timedelta(seconds=100)))
    assert Call.objects.get().status == CallStatus.NO_ANSWER
    assert Call.objects.get().wait_seconds == 100
    post_generic(client, brand, event("answered", T0 + timedelta(seconds=10)))
    call = Call.objects.get()
    assert call.status == CallStatus.COMPLETED
    assert (call.wait_seconds, call.talk_seconds) == (10, 90)


def test_replayed_event_is_a_no_op(client, brand, line):
    payload = event("queued", T0)
    assert post_generic(client, brand, payload).json()["duplicate"] is False
    events_before = Event.objects.count()
    replay = post_generic(client, brand, payload)
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert Event.objects.count() == events_before
    assert Call.objects.count() == 1 and Contact.objects.count() == 1


def test_missed_call_with_voicemail_and_transcript(client, brand, line, agent):
    post_generic(client, brand, event("queued", T0))
    voicemail = event(
        "voicemail",
        T0 + timedelta(seconds=30),
        recording_url="https://recordings.example.net/vm/1.mp3",
    )
    assert post_generic(client, brand, voicemail).status_code == 200
    transcript = event(
        "transcript", T0 + timedelta(seconds=90), transcript="Bonjour, rappelez-moi svp."
    )
    assert post_generic(client, brand, transcript).status_code == 200
    assert post_generic(client, brand, transcript).json()["duplicate"] is True
    call = Call.objects.get()
    assert call.status == CallStatus.VOICEMAIL and call.wait_seconds == 30
    assert call.recording_url.endswith("1.mp3")
    said = Message.objects.get(author_kind="customer")
    assert said.channel == Channel.PHONE and said.direction == "in"
    assert said.text == "Bonjour, rappelez-moi svp." and said.contact == call.contact
    client.force_login(agent.user)
    page = client.get(reverse("console:conversation", args=[said.conversation_id])).content
    assert b'href="https://recordings.example.net/vm/1.mp3"' in page
    assert b"Listen to the voicemail" in page and b"rappelez-moi" in page


def test_a_recording_url_must_be_http(client, brand, line):
    payload = event("recording", T0, recording_url="javascript:alert(1)")
    response = post_generic(client, brand, payload)
    assert response.status_code == 400 and "recording_url" in response.json()["error"]


def test_caller_is_the_same_customer_as_on_chat(client, brand, line):
    chat = ingest_chat(
        brand,
        "Bonjour, je vous appelle tout à l'heure",
        extra_identities=[IdentityClaim(IdentityKind.PHONE, "06 12 34 56 78")],
    )
    assert post_generic(client, brand, event("queued", T0)).status_code == 200
    call = Call.objects.get()
    assert call.contact.conversation == chat.conversation
    assert call.contact.conversation.customer == chat.conversation.customer
    assert Identity.objects.filter(kind=IdentityKind.PHONE).count() == 1


def test_each_brand_keeps_its_own_calls(client, brand, other_brand, line):
    PhoneLine.objects.create(brand=other_brand, number="+33180000002", webhook_secret="other")
    ingest_chat(brand, "hello", extra_identities=[IdentityClaim(IdentityKind.PHONE, CALLER)])
    body = json.dumps(event("queued", T0)).encode()
    response = post_generic(client, other_brand, None, raw=body, signature=sign(body, "other"))
    assert response.status_code == 200
    call = Call.objects.get()
    assert call.brand == other_brand and call.contact.conversation.customer.brand == other_brand


@pytest.mark.parametrize(
    ("signature", "status"),
    [("", 401), ("sha256=" + "0" * 64, 403), ("sha256=nothex", 403)],
)
def test_unsigned_or_wrongly_signed_events_are_refused(
    client, brand, line, caplog, signature, status
):
    with caplog.at_level(logging.WARNING, logger="comptoir.touchpoints.phone.webhooks"):
        response = post_generic(client, brand, event("queued", T0), signature=signature)
    assert response.status_code == status
    assert "Signature" in response.json()["error"]
    assert "Signature" in caplog.text
    assert not Call.objects.exists()


def test_a_signature_made_with_another_brands_secret_is_refused(client, brand, other_brand, line):
    PhoneLine.objects.create(brand=other_brand, number="+33180000002", webhook_secret="other")
    body = json.dumps(event("queued", T0)).encode()
    response = post_generic(client, brand, None, raw=body, signature=sign(body, "other"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({**event("queued", T0), "event": "exploded"}).encode(), "'event'"),
        (json.dumps({**event("queued", T0), "timestamp": "yesterday"}).encode(), "timestamp"),
        (json.dumps({**event("queued", T0), "from": "not a number"}).encode(), "'from'"),
        (
            json.dumps({k: v for k, v in event("queued", T0).items() if k != "call_id"}).encode(),
            "call_id",
        ),
        (json.dumps({**event("ended", T0), "status": "exploded"}).encode(), "'status'"),
    ],
)
def test_invalid_events_get_400_with_the_reason(client, brand, line, caplog, raw, reason):
    with caplog.at_level(logging.WARNING, logger="comptoir.touchpoints.phone.webhooks"):
        response = post_generic(client, brand, None, raw=raw)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert reason in caplog.text
    assert not Call.objects.exists()


def test_a_card_number_in_a_bad_field_is_masked_in_the_answer_and_the_log(
    client, brand, line, caplog
):
    card = "4111 1111 1111 1111"  # a test Visa number typed where a number was expected
    with caplog.at_level(logging.WARNING, logger="comptoir.touchpoints.phone.webhooks"):
        generic = post_generic(client, brand, event("queued", T0, **{"from": card}))
        twilio = post_twilio(client, brand, twilio_params(card))
    assert (generic.status_code, twilio.status_code) == (400, 400)
    assert "'from' is not a valid phone number: '4111 11** **** 1111'" in generic.json()["error"]
    assert "'CallStatus' is missing or unknown: '4111 11** **** 1111'" in twilio.json()["error"]
    assert "1111 1111 1111" not in caplog.text and "4111 11** **** 1111" in caplog.text
    assert not Call.objects.exists()


def test_oversized_body_gets_413(client, brand, line, settings):
    settings.PHONE_WEBHOOK_MAX_BYTES = 1024
    payload = event("transcript", T0, transcript="x" * 2000)
    response = post_generic(client, brand, payload)
    assert response.status_code == 413
    assert not Call.objects.exists()


def test_default_body_limit_is_256_kb(client, brand, line):
    payload = event("transcript", T0, transcript="x" * (256 * 1024))
    assert post_generic(client, brand, payload).status_code == 413
    small = event("transcript", T0, transcript="x" * (200 * 1024))
    assert post_generic(client, brand, small).status_code == 400  # over the text limit, not 413


def test_unknown_brand_or_brand_without_line(client, brand):
    assert post_generic(client, brand, event("queued", T0)).status_code == 404
    url = reverse("phone:generic_events", args=["no-such-brand"])
    response = client.post(
        url, data=b"{}", content_type="application/json", HTTP_X_COMPTOIR_SIGNATURE=sign(b"{}")
    )
    assert response.status_code == 404


def test_webhooks_only_accept_post(client, brand, line):
    assert client.get(reverse("phone:generic_events", args=[brand.slug])).status_code == 405
    assert client.get(reverse("phone:twilio_voice", args=[brand.slug])).status_code == 405


# Twilio adapter


def twilio_params(status: str, **extra) -> dict[str, str]:
    params = {
        "AccountSid": TWILIO_SID,
        "CallSid": "CA1111",
        "CallStatus": status,
        "From": CALLER,
        "To": LINE,
        "Direction": "inbound",
        "Timestamp": "Tue, 24 Nov 2026 09:00:00 +0000",
        "SequenceNumber": "0",
    }
    params.update(extra)
    return params


def test_twilio_status_callbacks(client, brand, line):
    response = post_twilio(client, brand, twilio_params("ringing"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().endswith("<Response/>")
    post_twilio(
        client, brand, twilio_params("in-progress", Timestamp="Tue, 24 Nov 2026 09:00:20 +0000")
    )
    post_twilio(
        client,
        brand,
        twilio_params("completed", Timestamp="Tue, 24 Nov 2026 09:03:30 +0000", CallDuration="190"),
    )
    post_twilio(
        client,
        brand,
        twilio_params(
            "completed",
            RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1",
            RecordingSid="RE1",
        ),
    )
    call = Call.objects.get()
    assert call.provider == Provider.TWILIO and call.provider_call_id == "CA1111"
    assert call.status == CallStatus.COMPLETED
    assert (call.wait_seconds, call.talk_seconds) == (20, 190)
    assert call.recording_url.endswith("/RE1")
    assert call.contact.conversation.customer.identities.get().value == CALLER


def test_twilio_replay_is_a_no_op(client, brand, line):
    params = twilio_params("ringing")
    assert post_twilio(client, brand, params).status_code == 200
    count = Event.objects.count()
    assert post_twilio(client, brand, params).status_code == 200
    assert Event.objects.count() == count


def test_twilio_signature_is_checked(client, brand, line, caplog):
    with caplog.at_level(logging.WARNING, logger="comptoir.touchpoints.phone.webhooks"):
        missing = post_twilio(client, brand, twilio_params("ringing"), token=None)
        wrong = post_twilio(client, brand, twilio_params("ringing"), token="not-the-token")
    assert missing.status_code == 401 and wrong.status_code == 403
    assert "X-Twilio-Signature" in caplog.text
    # A signature over other parameters than those posted is wrong too.
    path = reverse("phone:twilio_voice", args=[brand.slug])
    signature = twilio_reference_signature(
        TWILIO_TOKEN, f"http://testserver{path}", twilio_params("ringing")
    )
    tampered = client.post(
        path, data=twilio_params("ringing", From="+33799999999"), HTTP_X_TWILIO_SIGNATURE=signature
    )
    assert tampered.status_code == 403
    assert not Call.objects.exists()


def test_twilio_bad_fields_get_400(client, brand, line):
    response = post_twilio(client, brand, twilio_params("exploded"))
    assert response.status_code == 400 and "CallStatus" in response.json()["error"]
    response = post_twilio(client, brand, twilio_params("ringing", CallSid=""))
    assert response.status_code == 400


def test_twilio_oversized_body_gets_413(client, brand, line, settings):
    settings.PHONE_WEBHOOK_MAX_BYTES = 512
    response = post_twilio(client, brand, twilio_params("ringing", Extra="x" * 1000))
    assert response.status_code == 413


# Click-to-call


class RecordingHandler(BaseHTTPRequestHandler):
    """A stand-in for Twilio's REST API: records each request, answers like Twilio."""

    requests: list[dict] = []
    answer_status = 201

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        type(self).requests.append(
            {
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "form": parse_qsl(body),
            }
        )
        status = type(self).answer_status
        if status < 400:
            payload = {"sid": f"CA{len(type(self).requests):032d}", "status": "queued"}
        else:
            payload = {"code": 21211, "message": "The 'To' number is not a valid phone number."}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def fake_twilio():
    RecordingHandler.requests = []
    RecordingHandler.answer_status = 201
    server = HTTPServer(("127.0.0.1", 0), RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, RecordingHandler
    server.shutdown()
    server.server_close()


def customer_with_phone(brand):
    message = ingest_chat(brand, "Appelez-moi", extra_identities=[IdentityClaim("phone", CALLER)])
    return message.conversation


def test_click_to_call_through_twilio(client, brand, line, agent, fake_twilio):
    server, handler = fake_twilio
    line.provider = Provider.TWILIO
    line.twilio_base_url = f"http://127.0.0.1:{server.server_port}"
    line.status_callback_url = "https://help.example.com/webhooks/twilio/x/voice"
    line.save()
    conversation = customer_with_phone(brand)
    client.force_login(agent.user)
    page = client.get(reverse("console:conversation", args=[conversation.pk])).content.decode()
    call_url = reverse("phone:call_customer", args=[conversation.customer_id])
    assert f'action="{call_url}"' in page and f'value="{CALLER}"' in page

    response = client.post(call_url, {"number": CALLER}, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 204
    [request] = handler.requests
    assert request["path"] == f"/2010-04-01/Accounts/{TWILIO_SID}/Calls.json"
    expected_auth = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert request["authorization"] == f"Basic {expected_auth}"
    assert request["content_type"].startswith("application/x-www-form-urlencoded")
    form = request["form"]
    assert ("To", CALLER) in form and ("From", LINE) in form
    assert ("StatusCallback", line.status_callback_url) in form
    assert ("StatusCallbackEvent", "completed") in form
    assert f"<Client>agent-{agent.pk}</Client>" in dict(form)["Twiml"]

    call = Call.objects.get()
    assert call.direction == "out" and call.provider == Provider.TWILIO
    assert call.provider_call_id == f"CA{1:032d}" and call.agent == agent
    assert call.contact.conversation == conversation and call.contact.direction == "out"
    page = client.get(reverse("console:conversation", args=[conversation.pk])).content.decode()
    assert "Outgoing call to +33612345678" in page

    # Twilio then reports the call's progress on the same call.
    sid = call.provider_call_id
    outbound = {"CallSid": sid, "From": LINE, "To": CALLER, "Direction": "outbound-api"}
    post_twilio(client, brand, twilio_params("in-progress", **outbound))
    post_twilio(
        client,
        brand,
        twilio_params(
            "completed", **outbound, CallDuration="65", Timestamp="Tue, 24 Nov 2026 09:01:05 +0000"
        ),
    )
    call.refresh_from_db()
    assert call.status == CallStatus.COMPLETED and call.talk_seconds == 65
    assert Call.objects.count() == 1


def test_click_to_call_refused_by_the_provider(client, brand, line, agent, fake_twilio):
    server, handler = fake_twilio
    handler.answer_status = 400
    line.provider = Provider.TWILIO
    line.twilio_base_url = f"http://127.0.0.1:{server.server_port}"
    line.save()
    conversation = customer_with_phone(brand)
    client.force_login(agent.user)
    url = reverse("phone:call_customer", args=[conversation.customer_id])
    response = client.post(url, {"number": CALLER}, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400
    assert "not a valid phone number" in response.content.decode()
    assert len(handler.requests) == 1 and not Call.objects.exists()


def test_click_to_call_with_the_log_provider(client, brand, line, agent):
    conversation = customer_with_phone(brand)
    client.force_login(agent.user)
    url = reverse("phone:call_customer", args=[conversation.customer_id])
    response = client.post(url, {"number": CALLER})
    assert response.status_code == 302
    assert response["Location"] == reverse("console:conversation", args=[conversation.pk])
    logged = log_provider.requests[-1]
    assert (logged.to_number, logged.agent_id, logged.line_number) == (CALLER, agent.pk, LINE)
    call = Call.objects.get()
    assert call.provider_call_id == logged.call_id and call.direction == "out"


def test_click_to_call_only_to_the_customers_own_numbers(client, brand, line, agent):
    conversation = customer_with_phone(brand)
    client.force_login(agent.user)
    url = reverse("phone:call_customer", args=[conversation.customer_id])
    response = client.post(url, {"number": "+33799999999"}, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and not Call.objects.exists()


def test_click_to_call_without_a_line(client, brand, agent):
    conversation = customer_with_phone(brand)
    client.force_login(agent.user)
    url = reverse("phone:call_customer", args=[conversation.customer_id])
    response = client.post(url, {"number": CALLER}, HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 400 and not Call.objects.exists()


def test_click_to_call_another_brands_customer_is_404(client, brand, line, outsider):
    conversation = customer_with_phone(brand)
    client.force_login(outsider.user)
    url = reverse("phone:call_customer", args=[conversation.customer_id])
    assert client.post(url, {"number": CALLER}).status_code == 404
    assert not Call.objects.exists()


def test_supervisors_and_agents_alike_can_call(client, brand, line):
    supervisor = make_agent(brand, Role.SUPERVISOR)
    conversation = customer_with_phone(brand)
    client.force_login(supervisor.user)
    url = reverse("phone:call_customer", args=[conversation.customer_id])
    assert client.post(url, {"number": CALLER}).status_code == 302
    assert Call.objects.get().agent == supervisor


def test_demo_phone_is_idempotent(db):
    from django.core.management import call_command

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call = Call.objects.get(provider_call_id="demo-call-hugo-2")
    assert call.status == CallStatus.COMPLETED and (call.wait_seconds, call.talk_seconds) == (
        42,
        190,
    )
    assert call.contact.conversation.customer.display_name == "Hugo Laurent"
    assert PhoneLine.objects.get(brand__slug="maison-demo").webhook_secret
