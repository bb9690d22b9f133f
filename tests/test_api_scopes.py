"""API tokens' scopes (read / write / admin) and expiry, issued in Settings and by the command."""

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from comptoir.tenancy.models import ApiScope, ApiToken
from tests.factories import ingest_chat


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def conversation(brand):
    return ingest_chat(brand, "Bonjour, ma commande ?", visitor_id="c" * 32).conversation


def _write(client, conversation, key):
    return client.post(
        f"/api/conversations/{conversation.pk}/messages",
        json.dumps({"text": "Bonjour"}),
        content_type="application/json",
        headers=bearer(key),
    )


def test_a_read_token_reads_but_is_refused_writes_with_a_reason(client, agent, conversation):
    _, key = ApiToken.issue(agent, "reader", scope=ApiScope.READ)
    assert client.get("/api/conversations", headers=bearer(key)).status_code == 200
    response = _write(client, conversation, key)
    assert response.status_code == 403
    assert "'read' scope" in response.json()["detail"]
    assert conversation.messages.count() == 1, "nothing written"


def test_a_write_token_writes(client, agent, conversation):
    _, key = ApiToken.issue(agent, "writer", scope=ApiScope.WRITE)
    assert _write(client, conversation, key).status_code == 201


@pytest.mark.parametrize("scope", [ApiScope.READ, ApiScope.WRITE])
def test_administrators_endpoints_need_the_admin_scope(client, admin, scope):
    _, key = ApiToken.issue(admin, "narrow", scope=scope)
    response = client.get("/api/webhooks/endpoints", headers=bearer(key))
    assert response.status_code == 403
    assert "'admin' scope" in response.json()["detail"]
    _, admin_key = ApiToken.issue(admin, "wide", scope=ApiScope.ADMIN)
    assert client.get("/api/webhooks/endpoints", headers=bearer(admin_key)).status_code == 200


def test_the_admin_scope_gives_no_power_the_agent_s_role_lacks(client, agent):
    _, key = ApiToken.issue(agent, "pretender", scope=ApiScope.ADMIN)
    response = client.get("/api/webhooks/endpoints", headers=bearer(key))
    assert response.status_code == 403
    assert "administrators" in response.json()["detail"]


def test_raw_mail_needs_an_admin_scoped_key(client, admin):
    _, key = ApiToken.issue(admin, "mta", scope=ApiScope.WRITE)
    response = client.post(
        "/api/inbound/email",
        b"From: a@example.org\r\n\r\nHi",
        content_type="message/rfc822",
        headers=bearer(key),
    )
    assert response.status_code == 403
    assert "'admin' scope" in response.json()["error"]


def test_an_expired_token_is_refused_with_a_reason(client, agent):
    _, key = ApiToken.issue(
        agent, "short", scope=ApiScope.READ, expires_at=timezone.now() + timedelta(days=30)
    )
    assert client.get("/api/customers", headers=bearer(key)).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = client.get("/api/customers", headers=bearer(key))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_settings_issue_a_token_with_a_scope_and_an_expiry(client, brand, admin):
    client.force_login(admin.user)
    response = client.post(
        reverse("administration:token_create"),
        {"name": "BI export", "scope": "read", "lifetime_days": "30"},
        follow=True,
    )
    assert response.status_code == 200
    key = re.search(r"cpt_[A-Za-z0-9_-]+", response.content.decode()).group(0)
    token = ApiToken.objects.get(membership=admin, name="BI export")
    assert token.scope == ApiScope.READ
    remaining = token.expires_at - timezone.now()
    assert timedelta(days=29) < remaining <= timedelta(days=30)
    page = client.get(reverse("administration:tokens")).content.decode()
    assert 'data-scope="read"' in page
    assert client.get("/api/customers", headers=bearer(key)).status_code == 200

    client.post(
        reverse("administration:token_create"),
        {"name": "Forever", "scope": "write", "lifetime_days": ""},
    )
    forever = ApiToken.objects.get(name="Forever")
    assert (forever.scope, forever.expires_at) == (ApiScope.WRITE, None)


def test_settings_refuse_an_unknown_scope(client, admin):
    client.force_login(admin.user)
    response = client.post(
        reverse("administration:token_create"), {"name": "x", "scope": "root", "lifetime_days": ""}
    )
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_the_command_issues_a_scoped_expiring_key(agent, brand):
    call_command(
        "issue_api_token",
        agent.user.username,
        "--scope",
        "read",
        "--expires-days",
        "7",
        "--name",
        "cli",
        stdout=StringIO(),
        stderr=StringIO(),
    )
    token = ApiToken.objects.get(name="cli")
    assert token.scope == ApiScope.READ
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
