"""Callback requests: from the widget and the API, into the console queue, to completion."""

import threading
import time
import uuid
from datetime import timedelta
from http.server import ThreadingHTTPServer

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from comptoir.conversations.inbound import IdentityClaim
from comptoir.conversations.models import Channel, Message
from comptoir.customers.models import Identity, IdentityKind
from comptoir.events.models import Event
from comptoir.observability.metrics import CALLBACKS_INSTEAD_OF_WAITING
from comptoir.tenancy.models import ApiToken
from comptoir.touchpoints.phone.callbacks import CallStateError
from comptoir.touchpoints.phone.click_to_call import call_back_now
from comptoir.touchpoints.phone.models import (
    Call,
    CallbackRequest,
    CallbackStatus,
    CallStatus,
    PhoneLine,
    Provider,
)
from comptoir.widget.tokens import issue_visitor_token
from tests.factories import ingest_chat, make_agent, make_brand
from tests.test_phone import RecordingHandler, post_twilio, twilio_params

NUMBER = "+33612345678"


@pytest.fixture
def line(brand):
    return PhoneLine.objects.create(
        brand=brand,
        number="+33180000001",
        provider=Provider.LOG,
        webhook_secret="s",
        twilio_account_sid="AC0123456789abcdef0123456789abcdef",
        twilio_auth_token="twilio-token-4242",
    )


def widget_request(client, token, body, **headers):
    return client.post(
        reverse("phone:widget_callback"),
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **headers,
    )


def callback_body(**extra):
    return {"number": "06 12 34 56 78", "when": "now", "client_id": str(uuid.uuid4()), **extra}


# Widget


def test_a_callback_chosen_instead_of_waiting_is_counted_apart(client, brand):
    token, _ = issue_visitor_token(brand.pk)
    counter = CALLBACKS_INSTEAD_OF_WAITING.labels(brand=brand.slug)
    before = counter._value.get()
    assert widget_request(client, token, callback_body(from_wait_offer=True)).status_code == 201
    assert CallbackRequest.objects.get().source == "wait_offer"
    assert counter._value.get() == before + 1
    again = widget_request(client, token, callback_body(from_wait_offer=1))  # strict boolean
    assert again.status_code == 400
    assert counter._value.get() == before + 1


def test_widget_visitor_asks_to_be_called_back_now(client, brand):
    token, visitor = issue_visitor_token(brand.pk)
    body = callback_body()
    response = widget_request(client, token, body)
    assert response.status_code == 201
    data = response.json()
    assert data["callback"]["status"] == "requested" and data["callback"]["number"] == NUMBER
    callback = CallbackRequest.objects.get()
    assert callback.source == "widget" and callback.status == CallbackStatus.REQUESTED
    customer = callback.customer
    assert (
        customer.identities.filter(kind=IdentityKind.CHAT_VISITOR).get().value == visitor.visitor_id
    )
    assert customer.identities.filter(kind=IdentityKind.PHONE).get().value == NUMBER
    # The request is the visitor's message: in the timeline and shown back in the widget.
    message = callback.message
    assert message.channel == Channel.WEBCHAT and NUMBER in message.text
    assert data["message"]["id"] == message.pk
    assert callback.conversation == message.conversation
    # A retried request (same client id) is the same request.
    again = widget_request(client, token, body)
    assert again.status_code == 200 and again.json()["callback"]["id"] == callback.pk
    assert CallbackRequest.objects.count() == 1


def test_widget_time_slot_is_scheduled(client, brand):
    token, _ = issue_visitor_token(brand.pk)
    slot = timezone.now() + timedelta(days=1)
    response = widget_request(client, token, callback_body(when=slot.isoformat()))
    assert response.status_code == 201
    callback = CallbackRequest.objects.get()
    assert callback.status == CallbackStatus.SCHEDULED
    assert abs((callback.requested_for - slot).total_seconds()) < 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (callback_body(number="12"), "invalid_phone"),
        (callback_body(number=""), "invalid_phone"),
        (callback_body(when="2020-01-01T10:00:00+01:00"), "invalid_slot"),
        (callback_body(when="2030-01-01T10:00"), "invalid_slot"),  # no offset
        (callback_body(when="tomorrow"), "invalid_slot"),
        (callback_body(client_id="x"), "bad_request"),
        (callback_body(note="x" * 501), "message_too_long"),
    ],
)
def test_widget_refusals_say_why(client, brand, body, code):
    token, _ = issue_visitor_token(brand.pk)
    response = widget_request(client, token, body)
    assert response.status_code == 400 and response.json()["code"] == code
    assert not CallbackRequest.objects.exists()


def test_widget_refusal_in_french(client, brand):
    token, _ = issue_visitor_token(brand.pk)
    response = widget_request(client, token, callback_body(number="12"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["error"] == "This phone number is not valid."


def test_widget_texts_carry_the_callback_form(client, brand):
    response = client.post(
        reverse("widget:session"),
        data={"brand": brand.slug, "language": "en"},
        content_type="application/json",
    )
    texts = response.json()["texts"]
    assert texts["callback_submit"] == "Call me back"
    assert texts["callback_now"] == "As soon as possible"


def test_widget_without_token_is_401(client, brand):
    response = client.post(
        reverse("phone:widget_callback"), data=callback_body(), content_type="application/json"
    )
    assert response.status_code == 401


def test_widget_number_of_someone_else_is_not_taken(client, brand):
    owner = ingest_chat(brand, "hi", extra_identities=[IdentityClaim(IdentityKind.PHONE, NUMBER)])
    token, _ = issue_visitor_token(brand.pk)
    assert widget_request(client, token, callback_body()).status_code == 201
    callback = CallbackRequest.objects.get()
    # The visitor gets their own request; the number stays with its owner, never merged.
    assert callback.customer != owner.conversation.customer
    assert Identity.objects.get(kind=IdentityKind.PHONE).customer == owner.conversation.customer


def test_widget_visitor_of_another_brand_lands_in_their_brand(client, brand, other_brand):
    token, _ = issue_visitor_token(other_brand.pk)
    assert widget_request(client, token, callback_body()).status_code == 201
    assert CallbackRequest.objects.get().brand == other_brand


# API


@pytest.fixture
def api_key(agent):
    return ApiToken.issue(agent, "test")[1]


def api_post(client, key, body):
    return client.post(
        "/api/callbacks",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_api_creates_a_callback_request(client, brand, api_key):
    slot = timezone.now() + timedelta(hours=3)
    body = {
        "number": "06 12 34 56 78",
        "requested_for": slot.isoformat(),
        "note": "Commande MD-1",
        "external_id": "shop-42",
    }
    response = api_post(client, api_key, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "scheduled" and data["number"] == NUMBER and data["source"] == "api"
    callback = CallbackRequest.objects.get()
    assert callback.customer.identities.get(kind=IdentityKind.PHONE).value == NUMBER
    assert callback.message.channel == Channel.API and "Commande MD-1" in callback.message.text
    again = api_post(client, api_key, body)
    assert again.status_code == 200 and again.json()["id"] == callback.pk

    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_key}"}
    listed = client.get("/api/callbacks?open=true", **headers).json()
    assert [item["id"] for item in listed["items"]] == [callback.pk]
    assert client.get("/api/callbacks?due=true", **headers).json()["count"] == 0
    one = client.get(f"/api/callbacks/{callback.pk}", **headers)
    assert one.status_code == 200 and one.json()["note"] == "Commande MD-1"


def test_api_callback_for_a_known_customer(client, brand, api_key):
    chat = ingest_chat(brand, "hi")
    customer = chat.conversation.customer
    body = {"number": "+33 7 81 22 45 90", "customer_id": customer.pk}
    response = api_post(client, api_key, body)
    assert response.status_code == 201
    callback = CallbackRequest.objects.get()
    assert callback.customer == customer and callback.conversation == chat.conversation
    assert callback.status == CallbackStatus.REQUESTED


def test_api_refusals(client, brand, other_brand, api_key, outsider):
    assert api_post(client, api_key, {"number": "12"}).status_code == 400
    stranger = ingest_chat(other_brand, "hi").conversation.customer
    response = api_post(client, api_key, {"number": NUMBER, "customer_id": stranger.pk})
    assert response.status_code == 404
    assert (
        client.post(
            "/api/callbacks", data={"number": NUMBER}, content_type="application/json"
        ).status_code
        == 401
    )
    assert not CallbackRequest.objects.exists()
    # Another brand's token sees none of this brand's requests.
    api_post(client, api_key, {"number": NUMBER})
    callback = CallbackRequest.objects.get()
    other_key = ApiToken.issue(outsider, "other")[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {other_key}"}
    assert client.get(f"/api/callbacks/{callback.pk}", **headers).status_code == 404
    assert client.get("/api/callbacks", **headers).json()["count"] == 0


# Console queue


def make_callback(brand, *, minutes_from_now: int = 0) -> CallbackRequest:
    token, _ = issue_visitor_token(brand.pk)
    when = "now"
    if minutes_from_now:
        when = (timezone.now() + timedelta(minutes=minutes_from_now)).isoformat()
    from django.test import Client

    response = widget_request(Client(), token, callback_body(when=when))
    assert response.status_code == 201
    return CallbackRequest.objects.get(pk=response.json()["callback"]["id"])


def test_queue_shows_due_requests_and_later_slots_when_due(client, brand, agent):
    due = make_callback(brand)
    later = make_callback(brand, minutes_from_now=90)
    client.force_login(agent.user)
    page = client.get(reverse("phone:callbacks")).content.decode()
    due_part, upcoming_part = page.split('data-count="upcoming"')
    assert f'id="callback-{due.pk}"' in due_part and f'id="callback-{later.pk}"' not in due_part
    assert f'id="callback-{later.pk}"' in upcoming_part
    # Its time comes: it moves to the due list, in time order (its slot came first).
    CallbackRequest.objects.filter(pk=later.pk).update(
        requested_for=due.requested_for - timedelta(minutes=10)
    )
    page = client.get(reverse("phone:callbacks")).content.decode()
    due_part, _ = page.split('data-count="upcoming"')
    assert (
        0 < due_part.index(f'id="callback-{later.pk}"') < due_part.index(f'id="callback-{due.pk}"')
    )


def test_call_now_then_mark_done(client, brand, agent, line):
    callback = make_callback(brand)
    client.force_login(agent.user)
    response = client.post(
        reverse("phone:callback_call", args=[callback.pk]), {"open": "conversation"}
    )
    assert response.status_code == 302
    callback.refresh_from_db()
    call = callback.call
    assert call.direction == "out" and call.to_number == NUMBER and call.agent == agent
    assert call.contact.conversation == callback.conversation
    assert callback.handled_by == agent
    assert response["Location"] == reverse("console:conversation", args=[callback.conversation_id])

    response = client.post(reverse("phone:callback_done", args=[callback.pk]))
    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.DONE and callback.handled_at is not None
    note = Message.objects.filter(conversation=callback.conversation, is_internal_note=True).get()
    assert NUMBER in note.text
    kinds = set(
        Event.objects.filter(conversation=callback.conversation).values_list("kind", flat=True)
    )
    assert {"callback.requested", "callback.updated", "call.updated"} <= kinds
    # Closed: no longer in the queue's due list, and cannot be closed twice.
    page = client.get(reverse("phone:callbacks")).content.decode()
    assert (
        f'id="callback-{callback.pk}" data-callback-id="{callback.pk}" data-status="done"' in page
    )
    again = client.post(
        reverse("phone:callback_cancel", args=[callback.pk]), HTTP_X_REQUESTED_WITH="fetch"
    )
    assert again.status_code == 400


def test_cancel(client, brand, agent):
    callback = make_callback(brand)
    client.force_login(agent.user)
    response = client.post(
        reverse("phone:callback_cancel", args=[callback.pk]), HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 204
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.CANCELLED and callback.handled_by == agent


def test_the_call_placed_for_a_callback_closes_it(client, brand, agent, line):
    callback = make_callback(brand)
    client.force_login(agent.user)
    client.post(reverse("phone:callback_call", args=[callback.pk]))
    callback.refresh_from_db()
    call = callback.call
    # Pretend the log line were Twilio's: its status callbacks reach the same call.
    Call.objects.filter(pk=call.pk).update(provider=Provider.TWILIO)
    outbound = {
        "CallSid": call.provider_call_id,
        "From": line.number,
        "To": NUMBER,
        "Direction": "outbound-api",
    }
    post_twilio(client, brand, twilio_params("no-answer", **outbound))
    callback.refresh_from_db()
    assert callback.call.status == CallStatus.NO_ANSWER
    assert callback.status == CallbackStatus.FAILED  # still in the queue, to try again
    client.post(reverse("phone:callback_call", args=[callback.pk]))
    callback.refresh_from_db()
    second = callback.call
    assert second != call
    Call.objects.filter(pk=second.pk).update(provider=Provider.TWILIO)
    outbound["CallSid"] = second.provider_call_id
    post_twilio(client, brand, twilio_params("completed", **outbound, CallDuration="30"))
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.DONE


def test_a_callback_whose_call_is_under_way_is_not_called_twice(
    client, brand, agent, colleague, line
):
    """Two agents on the queue: the second "Call now" must not ring the customer again."""
    callback = make_callback(brand)
    client.force_login(agent.user)
    client.post(reverse("phone:callback_call", args=[callback.pk]))
    client.force_login(colleague.user)
    again = client.post(
        reverse("phone:callback_call", args=[callback.pk]), HTTP_X_REQUESTED_WITH="fetch"
    )
    assert again.status_code == 400
    assert Call.objects.count() == 1
    callback.refresh_from_db()
    assert callback.handled_by == agent


def test_call_now_without_a_line_says_why(client, brand, agent):
    callback = make_callback(brand)
    client.force_login(agent.user)
    response = client.post(
        reverse("phone:callback_call", args=[callback.pk]), HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 400 and "no phone line" in response.content.decode()


def test_other_brand_and_anonymous_are_turned_away(client, brand, outsider):
    callback = make_callback(brand)
    for name in ("phone:callback_call", "phone:callback_done", "phone:callback_cancel"):
        url = reverse(name, args=[callback.pk])
        response = client.post(url)
        assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    response = client.get(reverse("phone:callbacks"))
    assert response.status_code == 302
    client.force_login(outsider.user)
    for name in ("phone:callback_call", "phone:callback_done", "phone:callback_cancel"):
        assert client.post(reverse(name, args=[callback.pk])).status_code == 404
    page = client.get(reverse("phone:callbacks")).content.decode()
    assert f"callback-{callback.pk}" not in page and NUMBER not in page
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.REQUESTED and callback.call is None


class SlowTwilio(RecordingHandler):
    """Twilio's REST API taking its time to accept a call, as it does over the Internet."""

    def do_POST(self):
        time.sleep(0.5)
        super().do_POST()


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite serialises writers; row locks are tested here"
)
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_call_now_clicks_ring_the_customer_once():
    brand = make_brand("Simultaneous")
    agents = [make_agent(brand), make_agent(brand)]
    SlowTwilio.requests = []
    SlowTwilio.answer_status = 201
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowTwilio)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    PhoneLine.objects.create(
        brand=brand,
        number="+33180000001",
        provider=Provider.TWILIO,
        webhook_secret="s",
        twilio_account_sid="AC0123456789abcdef0123456789abcdef",
        twilio_auth_token="token",
        twilio_base_url=f"http://127.0.0.1:{server.server_port}",
    )
    callback = make_callback(brand)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def click(agent) -> None:
        try:
            barrier.wait()
            outcomes.append(call_back_now(agent, callback))
        except CallStateError as refused:
            outcomes.append(refused)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    server.shutdown()
    server.server_close()
    assert len(SlowTwilio.requests) == 1 and Call.objects.filter(brand=brand).count() == 1
    [refused] = [outcome for outcome in outcomes if isinstance(outcome, CallStateError)]
    assert "already calling" in str(refused)
    callback.refresh_from_db()
    assert callback.call is not None and callback.dialing_since is None


def test_a_stale_dialing_claim_does_not_block_call_now(client, brand, agent, line):
    callback = make_callback(brand)
    CallbackRequest.objects.filter(pk=callback.pk).update(
        dialing_since=timezone.now() - timedelta(minutes=5)  # a request that died
    )
    client.force_login(agent.user)
    response = client.post(
        reverse("phone:callback_call", args=[callback.pk]), HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 204
    callback.refresh_from_db()
    assert callback.call is not None and callback.dialing_since is None
