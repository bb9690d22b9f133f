"""Webhook endpoints managed by administrators: the console pages and the REST API.

Who may reach them (other brands 404, lower roles 403) is in test_permissions.
Deliveries are sent by the real task to a real receiver (tests/webhook_receiver.py).
"""

import pytest
from django.urls import reverse

from comptoir.outbound_webhooks.models import WebhookDelivery, WebhookEndpoint
from comptoir.tasks import run_pending
from comptoir.tenancy.models import ApiToken
from tests.factories import ingest_chat
from tests.webhook_receiver import start_receiver, stop_receiver

PUBLIC_URL = "https://8.8.8.8/hooks"  # an IP literal: checked without a DNS query


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin.user)
    return client


@pytest.fixture
def api(client, admin):
    _, key = ApiToken.issue(admin, "webhooks")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


@pytest.fixture
def receiver():
    started = start_receiver()
    yield started
    stop_receiver(started)


def endpoint_form(url: str = PUBLIC_URL) -> dict:
    kinds = ["conversation.created", "message.created"]
    return {"url": url, "description": "CRM", "kinds": kinds, "is_enabled": "on"}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://10.0.0.7/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://localhost/hooks",
    ],
)
def test_a_private_or_loopback_url_is_refused_with_its_reason(admin_client, url):
    response = admin_client.post(reverse("outbound_webhooks:overview"), endpoint_form(url))
    assert response.status_code == 400
    assert "This URL is refused" in response.content.decode()
    assert "private or local address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_secret_is_shown_once_when_made_and_when_rotated(admin_client, brand):
    response = admin_client.post(reverse("outbound_webhooks:overview"), endpoint_form())
    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.brand == brand
    assert endpoint.kinds == ["conversation.created", "message.created"]
    assert endpoint.secret in response.content.decode()

    page = admin_client.get(reverse("outbound_webhooks:endpoint", args=[endpoint.pk]))
    assert page.status_code == 200 and endpoint.secret not in page.content.decode()
    assert endpoint.secret_hint in page.content.decode()

    old = endpoint.secret
    rotated = admin_client.post(reverse("outbound_webhooks:endpoint_rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in rotated.content.decode()


def test_an_endpoint_needs_a_known_event(admin_client):
    form = endpoint_form() | {"kinds": ["email.received"]}
    response = admin_client.post(reverse("outbound_webhooks:overview"), form)
    assert response.status_code == 400 and not WebhookEndpoint.objects.exists()


def test_the_delivery_log_shows_status_code_latency_and_answer_and_redelivers(
    admin_client, admin, brand, receiver
):
    admin_client.post(reverse("outbound_webhooks:overview"), endpoint_form())
    endpoint = WebhookEndpoint.objects.get()
    # The operator allows the local receiver (Django admin); the URL then points at it.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        allow_private_addresses=True, url=receiver.url
    )
    receiver.statuses.append(500)
    ingest_chat(brand, "Bonjour")
    ingest_chat(brand, "Bonsoir")
    run_pending()
    page = admin_client.get(reverse("outbound_webhooks:endpoint", args=[endpoint.pk]))
    html = page.content.decode()
    assert "receiver says no" in html and "500" in html and " ms" in html
    delivery = WebhookDelivery.objects.order_by("event_id").first()
    response = admin_client.post(
        reverse("outbound_webhooks:delivery_redeliver", args=[delivery.pk])
    )
    assert response.status_code == 302
    assert WebhookDelivery.objects.filter(redelivery_of=delivery).count() == 1


def test_a_switched_off_endpoint_is_announced_on_the_webhook_pages(admin_client, admin):
    endpoint = WebhookEndpoint.objects.create(
        brand=admin.brand,
        url=PUBLIC_URL,
        kinds=["message.created"],
        secret="whsec_x",
        is_enabled=False,
        failing_since="2031-01-01T00:00:00Z",
        disabled_at="2031-01-04T00:00:00Z",
        disabled_reason="HTTP 503",
    )
    overview = admin_client.get(reverse("outbound_webhooks:overview")).content.decode()
    assert "was switched off" in overview and "HTTP 503" in overview
    page = admin_client.get(reverse("outbound_webhooks:endpoint", args=[endpoint.pk]))
    assert "Switched off by Comptoir" in page.content.decode()


def test_the_api_manages_endpoints_and_their_deliveries(api, admin, brand, receiver):
    created = api.post(
        "/api/webhooks/endpoints",
        {"url": PUBLIC_URL, "kinds": ["message.created", "conversation.created"]},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert body["secret"] == endpoint.secret and body["is_enabled"] is True
    assert "secret" not in api.get(f"/api/webhooks/endpoints/{endpoint.pk}").json()
    assert api.get("/api/webhooks/endpoints").json()["count"] == 1
    kinds = [kind["name"] for kind in api.get("/api/webhooks/kinds").json()]
    assert "message.created" in kinds and "email.received" not in kinds

    refused = api.put(
        f"/api/webhooks/endpoints/{endpoint.pk}",
        {"url": "http://127.0.0.1/x", "kinds": ["nope"]},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"url", "kinds"}

    rotated = api.post(f"/api/webhooks/endpoints/{endpoint.pk}/rotate-secret")
    endpoint.refresh_from_db()
    assert rotated.json()["secret"] == endpoint.secret != body["secret"]

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        allow_private_addresses=True, url=receiver.url
    )
    ingest_chat(brand, "Bonjour")
    run_pending()
    [delivery] = api.get(f"/api/webhooks/endpoints/{endpoint.pk}/deliveries").json()["items"]
    assert (delivery["status"], delivery["response_status"]) == ("delivered", 200)
    again = api.post(f"/api/webhooks/deliveries/{delivery['id']}/redeliver")
    assert again.status_code == 202 and again.json()["uuid"] != delivery["uuid"]
    run_pending()
    assert len(receiver.received) == 2

    assert api.delete(f"/api/webhooks/endpoints/{endpoint.pk}").status_code == 204
    assert not WebhookEndpoint.objects.exists()
