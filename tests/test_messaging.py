"""WhatsApp and Messenger: webhooks in, replies out, against a real local HTTP server.

``GraphServer`` is a real ``ThreadingHTTPServer`` standing in for Meta's Graph
API: it records every request and answers with canned responses (media
look-ups, media bytes, sends).
"""

import json
import threading
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from comptoir.conversations.actions import send_reply
from comptoir.conversations.models import Channel, Message
from comptoir.customers.models import Identity
from comptoir.customers.resolution import create_customer
from comptoir.outbox.actions import start_delivery
from comptoir.outbox.models import Delivery
from comptoir.tasks import run_pending
from comptoir.touchpoints.messaging.models import MessagingAccount, MessagingRoute
from comptoir.touchpoints.messaging.outbound import split_text
from comptoir.touchpoints.messaging.signatures import signature_for
from comptoir.touchpoints.messaging.whatsapp import MAX_TEXT as WHATSAPP_MAX_TEXT
from tests.factories import make_brand
from tests.task_helpers import make_jobs_due

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.4\n" + b"0" * 300
PHONE_NUMBER_ID = "109876543210"
PAGE_ID = "555000111222"
WA_ID = "33612345678"
PSID = "6254789012345678"


# --- the local Graph API ---------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass(frozen=True)
class Canned:
    status: int
    body: bytes
    content_type: str


class GraphServer:
    """Canned answers per (method, path); each answer is used once, the last one forever."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.routes: dict[tuple[str, str], list[Canned]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                server.requests.append(
                    Recorded(self.command, self.path, dict(self.headers.items()), body)
                )
                queue = server.routes.get((self.command, path))
                if queue:
                    canned = queue.pop(0) if len(queue) > 1 else queue[0]
                else:
                    canned = Canned(
                        404, b'{"error": {"message": "no such route", "code": 100}}', "text/json"
                    )
                self.send_response(canned.status)
                self.send_header("Content-Type", canned.content_type)
                self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                self.wfile.write(canned.body)

            do_GET = do_POST = _handle

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def respond(self, method: str, path: str, status: int = 200, json_body=None, **kwargs) -> None:
        if json_body is not None:
            canned = Canned(status, json.dumps(json_body).encode(), "application/json")
        else:
            canned = Canned(status, kwargs["body"], kwargs.get("content_type", "text/plain"))
        self.routes.setdefault((method, path), []).append(canned)

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.split("?", 1)[0] == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def graph():
    server = GraphServer()
    yield server
    server.close()


@pytest.fixture
def wa_account(brand, graph):
    return MessagingAccount.objects.create(
        brand=brand,
        provider="whatsapp",
        external_id=PHONE_NUMBER_ID,
        display_name="+33 1 23 45 67 89",
        access_token="wa-access-token",
        app_secret="wa-app-secret",
        verify_token="wa-verify-token",
        api_base_url=f"{graph.url}/v21.0",
    )


@pytest.fixture
def fb_account(brand, graph):
    return MessagingAccount.objects.create(
        brand=brand,
        provider="messenger",
        external_id=PAGE_ID,
        display_name="Maison",
        access_token="fb-page-token",
        app_secret="fb-app-secret",
        verify_token="fb-verify-token",
        api_base_url=f"{graph.url}/v21.0",
    )


# --- payload builders ------------------------------------------------------------------


def wa_payload(messages=(), statuses=(), contacts=None, phone_number_id=PHONE_NUMBER_ID) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "33123456789", "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = contacts or [{"profile": {"name": "Léa Martin"}, "wa_id": WA_ID}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA-1", "changes": [{"field": "messages", "value": value}]}],
    }


def wa_text(wamid: str, text: str, sender: str = WA_ID) -> dict:
    return {
        "from": sender,
        "id": wamid,
        "timestamp": "1700000000",
        "type": "text",
        "text": {"body": text},
    }


def wa_status(wamid: str, status: str, **extra) -> dict:
    return {
        "id": wamid,
        "status": status,
        "timestamp": "1700000100",
        "recipient_id": WA_ID,
        **extra,
    }


def post_webhook(
    client, slug: str, payload, secret: str, provider: str = "whatsapp", signature=None
):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {}
    if signature is None:
        signature = signature_for(body, secret)
    if signature:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    url = reverse(f"messaging:{provider}_webhook", kwargs={"brand_slug": slug})
    return client.post(url, data=body, content_type="application/json", **headers)


def post_wa(client, brand, payload, **kwargs):
    return post_webhook(client, brand.slug, payload, "wa-app-secret", **kwargs)


def customer_reply(agent, brand, client, text="Merci, je regarde votre commande."):
    """A WhatsApp conversation with the agent's reply queued."""
    post_wa(client, brand, wa_payload([wa_text("wamid.IN1", "Bonjour, où est ma commande ?")]))
    conversation = Message.objects.get(external_id="wamid.IN1").conversation
    return send_reply(agent, conversation, text)


def due_now(message: Message) -> None:
    """The retry of the message's delivery is due (its backoff over)."""
    Delivery.objects.filter(message=message).update(next_attempt_at=timezone.now())
    make_jobs_due()


# --- the handshake ---------------------------------------------------------------------


def handshake(client, slug, token, mode="subscribe", provider="whatsapp"):
    url = reverse(f"messaging:{provider}_webhook", kwargs={"brand_slug": slug})
    params = {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": "1158201444"}
    return client.get(url, params)


def test_handshake_echoes_the_challenge(client, brand, wa_account, fb_account):
    response = handshake(client, brand.slug, "wa-verify-token")
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")
    response = handshake(client, brand.slug, "fb-verify-token", provider="messenger")
    assert response.content == b"1158201444"


def test_handshake_refuses_a_wrong_token_or_mode(client, brand, wa_account, caplog):
    response = handshake(client, brand.slug, "guess")
    assert response.status_code == 403
    assert response.json()["error"] == "wrong hub.verify_token"
    assert "wrong hub.verify_token" in caplog.text
    assert b"1158201444" not in response.content
    assert handshake(client, brand.slug, "wa-verify-token", mode="unsubscribe").status_code == 403
    # The Messenger token does not open the WhatsApp webhook (and no Messenger account here).
    assert handshake(client, brand.slug, "wa-verify-token", provider="messenger").status_code == 404


def test_handshake_of_another_brand_needs_that_brand_token(client, brand, other_brand, wa_account):
    assert handshake(client, other_brand.slug, "wa-verify-token").status_code == 404
    assert handshake(client, "no-such-brand", "wa-verify-token").status_code == 404


# --- signatures and bad input ----------------------------------------------------------


def test_missing_signature_is_401(client, brand, wa_account, caplog):
    response = post_wa(client, brand, wa_payload([wa_text("wamid.A", "Bonjour")]), signature="")
    assert response.status_code == 401
    assert "X-Hub-Signature-256" in response.json()["error"]
    assert "refused (401)" in caplog.text
    assert not Message.objects.exists()


def test_wrong_signature_is_403(client, brand, wa_account, caplog):
    payload = wa_payload([wa_text("wamid.A", "Bonjour")])
    response = post_webhook(client, brand.slug, payload, "not-the-secret")
    assert response.status_code == 403
    assert response.json()["error"] == "wrong X-Hub-Signature-256 signature"
    assert "refused (403)" in caplog.text
    # A signature of another body does not pass either.
    other = signature_for(b"{}", "wa-app-secret")
    assert post_wa(client, brand, payload, signature=other).status_code == 403
    assert post_wa(client, brand, payload, signature="sha1=abc").status_code == 403
    assert not Message.objects.exists()


def test_non_ascii_signature_is_403_not_a_crash(client, brand, wa_account):
    payload = wa_payload([wa_text("wamid.A", "Bonjour")])
    response = post_wa(client, brand, payload, signature="sha256=\u00e9" + "0" * 63)
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_signed_text_message_is_stored(client, brand, wa_account):
    response = post_wa(client, brand, wa_payload([wa_text("wamid.A", "Bonjour, ma commande ?")]))
    assert response.status_code == 200, response.content
    assert response.json() == {"received": 1, "duplicates": 0, "statuses": 0, "skipped": []}
    message = Message.objects.get()
    assert message.channel == Channel.WHATSAPP
    assert message.external_id == "wamid.A"
    assert message.text == "Bonjour, ma commande ?"
    assert message.brand == brand
    customer = message.conversation.customer
    assert customer.display_name == "Léa Martin"
    identities = {(i.kind, i.value): i.verified for i in customer.identities.all()}
    assert identities == {("whatsapp", WA_ID): True, ("phone", "+33612345678"): False}
    route = MessagingRoute.objects.get()
    assert (route.account, route.recipient_id) == (wa_account, WA_ID)


def test_replay_is_a_no_op(client, brand, wa_account):
    payload = wa_payload([wa_text("wamid.A", "Bonjour")])
    assert post_wa(client, brand, payload).json()["received"] == 1
    response = post_wa(client, brand, payload)
    assert response.status_code == 200
    assert response.json()["duplicates"] == 1
    assert Message.objects.count() == 1


def test_another_brands_slug_with_this_brands_signature(client, brand, other_brand, wa_account):
    payload = wa_payload([wa_text("wamid.A", "Bonjour")])
    # The other brand has no WhatsApp account: 404.
    response = post_webhook(client, other_brand.slug, payload, "wa-app-secret")
    assert response.status_code == 404
    # It has one, with its own secret: this brand's signature is refused.
    MessagingAccount.objects.create(
        brand=other_brand,
        provider="whatsapp",
        external_id="999",
        app_secret="rival-secret",
        verify_token="rival-verify",
    )
    response = post_webhook(client, other_brand.slug, payload, "wa-app-secret")
    assert response.status_code == 403
    # Signed with the other brand's secret but naming this brand's number: not stored there.
    response = post_webhook(client, other_brand.slug, payload, "rival-secret")
    assert response.status_code == 200
    assert response.json()["skipped"] == [
        {
            "where": "messages[0]",
            "reason": f"account {PHONE_NUMBER_ID} is not connected to this brand",
        }
    ]
    assert not Message.objects.exists()


def test_oversized_body_is_413(client, brand, wa_account, settings):
    settings.MESSAGING_WEBHOOK_MAX_BYTES = 1024 * 1024
    payload = wa_payload([wa_text("wamid.A", "x" * (1024 * 1024))])
    response = post_wa(client, brand, payload)
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]
    assert not Message.objects.exists()


def test_malformed_json_is_400(client, brand, wa_account):
    response = post_wa(client, brand, b'{"object": "whatsapp_business_account", "entry": [')
    assert response.status_code == 400
    assert response.json()["error"].startswith("body is not JSON")
    # Nesting deeper than the JSON parser's recursion limit: a 400 too, not a 500.
    assert post_wa(client, brand, b"[" * 100_000 + b"]" * 100_000).status_code == 400
    response = post_wa(client, brand, {"object": "page", "entry": []})
    assert response.status_code == 400
    assert "whatsapp_business_account" in response.json()["error"]
    response = post_wa(client, brand, {"object": "whatsapp_business_account", "entry": {}})
    assert response.status_code == 400
    assert response.json()["error"] == "entry: expected a list"


def test_one_malformed_message_does_not_drop_the_others(client, brand, wa_account):
    broken = {"id": "wamid.BROKEN", "type": "text", "text": {"body": "no sender"}}
    no_body = {"from": WA_ID, "id": "wamid.NOBODY", "type": "text", "text": {}}
    payload = wa_payload(
        [wa_text("wamid.1", "Premier"), broken, no_body, wa_text("wamid.2", "Second")]
    )
    response = post_wa(client, brand, payload)
    assert response.status_code == 200
    body = response.json()
    assert body["received"] == 2
    assert [s["where"] for s in body["skipped"]] == [
        "entry[0].changes[0].value.messages[1]",
        "entry[0].changes[0].value.messages[2]",
    ]
    assert "from" in body["skipped"][0]["reason"]
    texts = list(Message.objects.order_by("id").values_list("text", flat=True))
    assert texts == ["Premier", "Second"]
    # Both in the same conversation of the same customer.
    assert Message.objects.values("conversation").distinct().count() == 1


def test_a_message_that_failed_to_store_is_not_acknowledged(client, brand, wa_account, monkeypatch):
    """An unexpected failure must make Meta deliver again (503), not be answered 200 and lost."""
    from comptoir.touchpoints.messaging import receiving

    real_ingest = receiving.ingest_message

    def failing_once(inbound):
        if inbound.external_id == "wamid.BAD":
            raise RuntimeError("storage hiccup")
        return real_ingest(inbound)

    monkeypatch.setattr(receiving, "ingest_message", failing_once)
    payload = wa_payload([wa_text("wamid.OK", "Bonjour"), wa_text("wamid.BAD", "Ma commande")])
    response = post_wa(client, brand, payload)
    assert response.status_code == 503, response.content
    assert set(Message.objects.values_list("external_id", flat=True)) == {"wamid.OK"}

    monkeypatch.setattr(receiving, "ingest_message", real_ingest)
    again = post_wa(client, brand, payload)  # Meta's redelivery
    assert again.status_code == 200
    assert (again.json()["received"], again.json()["duplicates"]) == (1, 1)
    assert Message.objects.count() == 2


def test_a_sender_without_usable_identity_is_skipped_not_fatal(client, brand, wa_account):
    payload = wa_payload([wa_text("wamid.X", "Hi", sender="abc"), wa_text("wamid.Y", "Ok")])
    response = post_wa(client, brand, payload)
    assert response.status_code == 200
    assert response.json()["received"] == 1
    assert response.json()["skipped"] == [
        {"where": "wamid.X", "reason": "sender abc: no usable identity claim"}
    ]


# --- message types and media -----------------------------------------------------------


def test_image_is_fetched_through_the_graph_api(client, brand, wa_account, graph):
    graph.respond(
        "GET",
        "/v21.0/MEDIA-IMG",
        json_body={"url": f"{graph.url}/files/MEDIA-IMG", "mime_type": "image/png"},
    )
    graph.respond("GET", "/files/MEDIA-IMG", body=PNG, content_type="image/png")
    image = {
        "from": WA_ID,
        "id": "wamid.IMG",
        "type": "image",
        "image": {"id": "MEDIA-IMG", "mime_type": "image/png", "caption": "Le colis abîmé"},
    }
    response = post_wa(client, brand, wa_payload([image]))
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.text == "Le colis abîmé"
    attachment = message.attachments.get()
    assert attachment.content_type == "image/png"
    assert attachment.filename == "image.png"
    assert attachment.file.read() == PNG
    # Both requests carried the account's token.
    for path in ("/v21.0/MEDIA-IMG", "/files/MEDIA-IMG"):
        (request,) = graph.requests_to(path)
        assert request.headers["Authorization"] == "Bearer wa-access-token"


def test_document_keeps_its_file_name(client, brand, wa_account, graph):
    graph.respond("GET", "/v21.0/MEDIA-DOC", json_body={"url": f"{graph.url}/files/doc"})
    graph.respond("GET", "/files/doc", body=PDF, content_type="application/pdf")
    document = {
        "from": WA_ID,
        "id": "wamid.DOC",
        "type": "document",
        "document": {"id": "MEDIA-DOC", "mime_type": "application/pdf", "filename": "facture.pdf"},
    }
    assert post_wa(client, brand, wa_payload([document])).status_code == 200
    attachment = Message.objects.get().attachments.get()
    assert (attachment.filename, attachment.content_type) == ("facture.pdf", "application/pdf")
    assert attachment.file.read() == PDF


def test_media_failure_keeps_the_text(client, brand, wa_account, graph, caplog):
    graph.respond("GET", "/v21.0/MEDIA-GONE", 500, json_body={"error": {"message": "boom"}})
    image = {
        "from": WA_ID,
        "id": "wamid.IMG",
        "type": "image",
        "image": {"id": "MEDIA-GONE", "caption": "Voici la photo"},
    }
    response = post_wa(client, brand, wa_payload([image]))
    assert response.status_code == 200
    assert response.json()["received"] == 1
    message = Message.objects.get()
    assert message.text.startswith("Voici la photo\n[")
    assert "image" in message.text
    assert not message.attachments.exists()
    assert "MEDIA-GONE not fetched" in caplog.text


def test_media_over_the_size_limit_is_refused(client, brand, wa_account, graph, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    graph.respond("GET", "/v21.0/BIG", json_body={"url": f"{graph.url}/files/big"})
    graph.respond("GET", "/files/big", body=PNG, content_type="image/png")
    image = {"from": WA_ID, "id": "wamid.BIG", "type": "image", "image": {"id": "BIG"}}
    assert post_wa(client, brand, wa_payload([image])).status_code == 200
    message = Message.objects.get()
    assert not message.attachments.exists()
    assert message.text.startswith("[")


def test_media_of_a_refused_type_is_not_stored(client, brand, wa_account, graph):
    graph.respond("GET", "/v21.0/EXE", json_body={"url": f"{graph.url}/files/exe"})
    graph.respond(
        "GET", "/files/exe", body=b"MZ" + b"0" * 50, content_type="application/x-msdownload"
    )
    document = {
        "from": WA_ID,
        "id": "wamid.EXE",
        "type": "document",
        "document": {"id": "EXE", "filename": "setup.exe"},
    }
    assert post_wa(client, brand, wa_payload([document])).status_code == 200
    message = Message.objects.get()
    assert not message.attachments.exists()
    assert "setup.exe" in message.text


def test_location_and_button_replies_become_text(client, brand, wa_account):
    location = {
        "from": WA_ID,
        "id": "wamid.LOC",
        "type": "location",
        "location": {"latitude": 48.85, "longitude": 2.35, "name": "Boutique Rivoli"},
    }
    button = {
        "from": WA_ID,
        "id": "wamid.BTN",
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Oui"}},
    }
    assert post_wa(client, brand, wa_payload([location, button])).json()["received"] == 2
    texts = dict(Message.objects.values_list("external_id", "text"))
    assert texts["wamid.LOC"].startswith("📍 Boutique Rivoli\nhttps://www.openstreetmap.org/")
    assert "mlat=48.85" in texts["wamid.LOC"]
    assert texts["wamid.BTN"] == "Oui"


def test_whatsapp_number_matching_a_known_phone_lands_on_that_customer(client, brand, wa_account):
    known = create_customer(brand, [("phone", "+33612345678", True)], display_name="Léa M.")
    response = post_wa(client, brand, wa_payload([wa_text("wamid.A", "C'est Léa")]))
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.conversation.customer_id == known.pk
    # The WhatsApp id joins the customer's identities.
    assert Identity.objects.get(kind="whatsapp").customer_id == known.pk
    assert known.identities.get(kind="phone").verified is True  # unchanged


def test_a_number_only_on_another_brand_opens_a_new_customer(client, brand, wa_account):
    rival = make_brand("Rival")
    create_customer(rival, [("phone", "+33612345678", True)])
    post_wa(client, brand, wa_payload([wa_text("wamid.A", "Bonjour")]))
    assert Message.objects.get().conversation.customer.brand_id == brand.pk


# --- outbound --------------------------------------------------------------------------


def test_reply_goes_out_through_the_graph_api(client, brand, agent, wa_account, graph):
    graph.respond(
        "POST",
        f"/v21.0/{PHONE_NUMBER_ID}/messages",
        json_body={"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT1"}]},
    )
    reply = customer_reply(agent, brand, client)
    assert reply.channel == Channel.WHATSAPP
    assert run_pending() == 1
    (request,) = graph.requests_to(f"/v21.0/{PHONE_NUMBER_ID}/messages")
    assert request.method == "POST"
    assert request.headers["Authorization"] == "Bearer wa-access-token"
    assert request.json() == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"preview_url": False, "body": "Merci, je regarde votre commande."},
    }
    delivery = Delivery.objects.get(message=reply)
    assert (delivery.status, delivery.provider_id) == ("sent", "wamid.OUT1")


def test_statuses_move_the_delivery_forward_only(client, brand, agent, wa_account, graph):
    graph.respond(
        "POST",
        f"/v21.0/{PHONE_NUMBER_ID}/messages",
        json_body={"messages": [{"id": "wamid.OUT1"}]},
    )
    reply = customer_reply(agent, brand, client)
    run_pending()

    def status_now(status):
        response = post_wa(client, brand, wa_payload(statuses=[wa_status("wamid.OUT1", status)]))
        assert response.status_code == 200
        assert response.json()["statuses"] == 1
        return Delivery.objects.get(message=reply).status

    assert status_now("delivered") == "delivered"
    assert status_now("read") == "read"
    assert status_now("delivered") == "read"  # late, never backwards
    assert status_now("sent") == "read"


def test_failed_status_records_the_reason(client, brand, agent, wa_account, graph):
    graph.respond(
        "POST", f"/v21.0/{PHONE_NUMBER_ID}/messages", json_body={"messages": [{"id": "wamid.F"}]}
    )
    reply = customer_reply(agent, brand, client)
    run_pending()
    failed = wa_status(
        "wamid.F",
        "failed",
        errors=[{"code": 131026, "title": "Message undeliverable"}],
    )
    post_wa(client, brand, wa_payload(statuses=[failed]))
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == "failed"
    assert delivery.last_error == "131026 — Message undeliverable"


def test_status_of_an_unknown_message_is_ignored(client, brand, wa_account):
    response = post_wa(client, brand, wa_payload(statuses=[wa_status("wamid.ELSEWHERE", "read")]))
    assert response.status_code == 200
    assert not Delivery.objects.exists()


def test_provider_500_is_retried(client, brand, agent, wa_account, graph):
    path = f"/v21.0/{PHONE_NUMBER_ID}/messages"
    graph.respond("POST", path, 500, json_body={"error": {"message": "Service unavailable"}})
    graph.respond("POST", path, 429, json_body={"error": {"message": "Too many", "code": 4}})
    graph.respond("POST", path, json_body={"messages": [{"id": "wamid.LATE"}]})
    reply = customer_reply(agent, brand, client)
    run_pending()
    delivery = Delivery.objects.get(message=reply)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "HTTP 500: Service unavailable"
    assert delivery.next_attempt_at > timezone.now()
    assert run_pending() == 0  # not due yet
    due_now(reply)
    run_pending()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 2)
    assert delivery.last_error == "HTTP 429 (#4): Too many"
    due_now(reply)
    run_pending()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_id, delivery.attempts) == ("sent", "wamid.LATE", 3)
    assert len(graph.requests_to(path)) == 3


def test_a_long_reply_resumes_after_the_parts_already_sent(client, brand, agent, wa_account, graph):
    """Part 2 of 3 fails: the retry sends parts 2 and 3, not part 1 a second time."""
    path = f"/v21.0/{PHONE_NUMBER_ID}/messages"
    graph.respond("POST", path, json_body={"messages": [{"id": "wamid.PART1"}]})
    graph.respond("POST", path, 500, json_body={"error": {"message": "Service unavailable"}})
    graph.respond("POST", path, json_body={"messages": [{"id": "wamid.PART2"}]})
    graph.respond("POST", path, json_body={"messages": [{"id": "wamid.PART3"}]})
    parts = ["a" * (WHATSAPP_MAX_TEXT - 10), "b" * (WHATSAPP_MAX_TEXT - 10), "c" * 10]
    reply = customer_reply(agent, brand, client, text="\n".join(parts))
    run_pending()
    delivery = Delivery.objects.get(message=reply)
    assert (delivery.status, delivery.parts_sent) == ("pending", 1)
    due_now(reply)
    run_pending()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.parts_sent) == ("sent", 3)
    assert delivery.provider_id == "wamid.PART3"
    sent = [request.json()["text"]["body"] for request in graph.requests_to(path)]
    assert sent == [parts[0], parts[1], parts[1], parts[2]]  # part 2 failed once


def test_unreachable_provider_is_retried(client, brand, agent, wa_account):
    wa_account.api_base_url = "http://127.0.0.1:9/v21.0"  # discard port: refused
    wa_account.save()
    reply = customer_reply(agent, brand, client)
    run_pending()
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == "pending"
    assert delivery.last_error.startswith("provider unreachable")


def test_provider_4xx_fails_for_good_with_its_reason(client, brand, agent, wa_account, graph):
    graph.respond(
        "POST",
        f"/v21.0/{PHONE_NUMBER_ID}/messages",
        400,
        json_body={
            "error": {
                "message": "(#131047) Re-engagement message",
                "type": "OAuthException",
                "code": 131047,
                "error_data": {
                    "details": "Message failed to send because more than 24 hours have passed"
                },
            }
        },
    )
    reply = customer_reply(agent, brand, client)
    run_pending()
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == "failed"
    assert delivery.attempts == 1
    assert delivery.last_error == (
        "HTTP 400 (#131047): (#131047) Re-engagement message — "
        "Message failed to send because more than 24 hours have passed"
    )


def test_console_timeline_shows_the_delivery_status(
    client, agent_client, brand, agent, wa_account, graph
):
    graph.respond(
        "POST", f"/v21.0/{PHONE_NUMBER_ID}/messages", json_body={"messages": [{"id": "wamid.T"}]}
    )
    reply = customer_reply(agent, brand, agent_client)
    url = reverse("console:thread_fragment", kwargs={"conversation_id": reply.conversation_id})
    # The worker's job makes the delivery, then sends it: meanwhile the agent reads "Sending…".
    start_delivery(reply.pk)
    assert "Sending…" in agent_client.get(url).content.decode()
    run_pending()
    post_wa(agent_client, brand, wa_payload(statuses=[wa_status("wamid.T", "delivered")]))
    page = agent_client.get(url).content.decode()
    assert "message__delivery--delivered" in page
    assert "✓✓" in page


def test_long_replies_are_split_at_breaks():
    text = ("mot " * 30).strip()
    chunks = split_text(text, 20)
    assert all(len(chunk) <= 20 for chunk in chunks)
    assert " ".join(chunks) == text
    assert split_text("court", 20) == ["court"]
    assert split_text("x" * 45, 20) == ["x" * 20, "x" * 20, "x" * 5]


# --- Messenger -------------------------------------------------------------------------


def fb_payload(*events, page_id=PAGE_ID) -> dict:
    return {
        "object": "page",
        "entry": [{"id": page_id, "time": 1700000000000, "messaging": list(events)}],
    }


def fb_event(**content) -> dict:
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1700000000000,
        **content,
    }


def post_fb(client, brand, payload, **kwargs):
    return post_webhook(
        client, brand.slug, payload, "fb-app-secret", provider="messenger", **kwargs
    )


def test_messenger_text_and_image(client, brand, fb_account, graph, settings):
    settings.MESSAGING_MEDIA_ALLOW_PRIVATE_HOSTS = True  # the local Graph server is on 127.0.0.1
    graph.respond("GET", "/cdn/photo.jpg", body=PNG, content_type="image/png")
    text = fb_event(message={"mid": "m_TEXT", "text": "Bonjour depuis Messenger"})
    image = fb_event(
        message={
            "mid": "m_IMG",
            "attachments": [{"type": "image", "payload": {"url": f"{graph.url}/cdn/photo.jpg"}}],
        }
    )
    echo = fb_event(message={"mid": "m_ECHO", "text": "our own", "is_echo": True})
    response = post_fb(client, brand, fb_payload(text, image, echo))
    assert response.status_code == 200, response.content
    assert response.json()["received"] == 2
    messages = {m.external_id: m for m in Message.objects.all()}
    assert set(messages) == {"m_TEXT", "m_IMG"}
    assert messages["m_TEXT"].channel == Channel.MESSENGER
    attachment = messages["m_IMG"].attachments.get()
    assert attachment.filename == "photo.jpg"
    assert attachment.file.read() == PNG
    identity = messages["m_TEXT"].conversation.customer.identities.get()
    assert (identity.kind, identity.value, identity.verified) == ("messenger", PSID, True)


def test_messenger_attachment_on_a_private_address_is_not_fetched(
    client, brand, fb_account, graph, settings
):
    """The URL comes from the payload: the server must not fetch its own network for it."""
    settings.MESSAGING_MEDIA_ALLOW_PRIVATE_HOSTS = False
    graph.respond("GET", "/cdn/secret", body=PNG, content_type="image/png")
    urls = [
        f"{graph.url}/cdn/secret",
        f"http://localhost:{graph.httpd.server_address[1]}/cdn/secret",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/cdn/secret",
        "ftp://example.com/photo.jpg",
    ]
    events = [
        fb_event(
            message={
                "mid": f"m_PRIV{n}",
                "text": "voici",
                "attachments": [{"type": "image", "payload": {"url": url}}],
            }
        )
        for n, url in enumerate(urls)
    ]
    response = post_fb(client, brand, fb_payload(*events))
    assert response.status_code == 200, response.content
    assert graph.requests_to("/cdn/secret") == []
    stored = Message.objects.filter(external_id__startswith="m_PRIV")
    assert stored.count() == len(urls)  # the text is kept, with a note
    for message in stored:
        assert not message.attachments.exists()


def test_messenger_wrong_signature_is_403(client, brand, fb_account):
    payload = fb_payload(fb_event(message={"mid": "m_1", "text": "Hi"}))
    response = post_fb(client, brand, payload, signature=signature_for(b"x", "fb-app-secret"))
    assert response.status_code == 403
    # The WhatsApp URL does not take a Messenger payload either.
    assert post_webhook(client, brand.slug, payload, "fb-app-secret").status_code == 404


def test_messenger_reply_and_watermarks(client, brand, agent, fb_account, graph):
    graph.respond(
        "POST", "/v21.0/me/messages", json_body={"recipient_id": PSID, "message_id": "m_OUT"}
    )
    post_fb(client, brand, fb_payload(fb_event(message={"mid": "m_IN", "text": "Bonjour"})))
    conversation = Message.objects.get(external_id="m_IN").conversation
    reply = send_reply(agent, conversation, "Bonjour, que puis-je faire ?")
    run_pending()
    (request,) = graph.requests_to("/v21.0/me/messages")
    assert request.headers["Authorization"] == "Bearer fb-page-token"
    assert request.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Bonjour, que puis-je faire ?"},
    }
    delivery = Delivery.objects.get(message=reply)
    assert (delivery.status, delivery.provider_id) == ("sent", "m_OUT")

    later = int((timezone.now() + timedelta(seconds=1)).timestamp() * 1000)
    before = int((delivery.sent_at - timedelta(minutes=5)).timestamp() * 1000)
    # A watermark from before the reply changes nothing.
    post_fb(client, brand, fb_payload(fb_event(read={"watermark": before})))
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    response = post_fb(client, brand, fb_payload(fb_event(delivery={"watermark": later})))
    assert response.json()["statuses"] == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    post_fb(client, brand, fb_payload(fb_event(read={"watermark": later})))
    delivery.refresh_from_db()
    assert delivery.status == "read"


def test_messenger_4xx_is_permanent(client, brand, agent, fb_account, graph):
    graph.respond(
        "POST",
        "/v21.0/me/messages",
        400,
        json_body={"error": {"message": "No matching user found", "code": 100}},
    )
    post_fb(client, brand, fb_payload(fb_event(message={"mid": "m_IN", "text": "Bonjour"})))
    conversation = Message.objects.get(external_id="m_IN").conversation
    reply = send_reply(agent, conversation, "Bonjour")
    run_pending()
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == "failed"
    assert delivery.last_error == "HTTP 400 (#100): No matching user found"


# --- demo ------------------------------------------------------------------------------


def test_demo_account_takes_signed_webhooks_and_explains_failing_replies(
    client, brand, agent, monkeypatch
):
    from comptoir.touchpoints.messaging.demo import (
        DEMO_APP_SECRET,
        DEMO_PHONE_NUMBER_ID,
        ensure_demo_whatsapp,
    )

    monkeypatch.delenv("MESSAGING_DEMO_API_URL", raising=False)
    account = ensure_demo_whatsapp(brand)
    assert ensure_demo_whatsapp(brand).pk == account.pk  # idempotent
    payload = wa_payload([wa_text("wamid.DEMO", "Bonjour")], phone_number_id=DEMO_PHONE_NUMBER_ID)
    response = post_webhook(client, brand.slug, payload, DEMO_APP_SECRET)
    assert response.json()["received"] == 1
    conversation = Message.objects.get(external_id="wamid.DEMO").conversation
    reply = send_reply(agent, conversation, "Bonjour !")
    run_pending()
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == "failed"
    assert "has no access token" in delivery.last_error
    assert "MESSAGING_DEMO_API_URL" in delivery.last_error


def test_demo_sandbox_answers_sends(client, brand, agent, monkeypatch):
    from comptoir.touchpoints.messaging.demo import DEMO_PHONE_NUMBER_ID, ensure_demo_whatsapp
    from comptoir.touchpoints.messaging.sandbox import make_server

    printed = []
    server = make_server(0, echo=printed.append)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(
            "MESSAGING_DEMO_API_URL", f"http://127.0.0.1:{server.server_address[1]}/v21.0"
        )
        ensure_demo_whatsapp(brand)
        payload = wa_payload(
            [wa_text("wamid.DEMO", "Bonjour")], phone_number_id=DEMO_PHONE_NUMBER_ID
        )
        post_webhook(client, brand.slug, payload, "demo-whatsapp-app-secret")
        conversation = Message.objects.get(external_id="wamid.DEMO").conversation
        reply = send_reply(agent, conversation, "Votre colis part demain.")
        run_pending()
    finally:
        server.shutdown()
        server.server_close()
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == "sent"
    assert delivery.provider_id.startswith("wamid.sandbox.")
    assert printed == [
        f"WhatsApp {DEMO_PHONE_NUMBER_ID} → +{WA_ID} [{delivery.provider_id}]: "
        "Votre colis part demain."
    ]


def test_messenger_postback_is_the_button_title(client, brand, fb_account):
    postback = fb_event(postback={"mid": "m_PB", "title": "Suivre ma commande", "payload": "TRACK"})
    assert post_fb(client, brand, fb_payload(postback)).json()["received"] == 1
    assert Message.objects.get(external_id="m_PB").text == "Suivre ma commande"
