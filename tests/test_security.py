"""Accounts and access: secret key, lockout, rate limits, sessions, second factor, audit log.

The findings of the security review (issue #15), each checked through the real pages,
endpoints and settings: a published secret key refused, wrong passwords locking out the
account and the address (console and Django admin), 429 with Retry-After on every limited
endpoint (counted in Redis when it is configured), sessions ending when idle or old,
the second factor required of administrators, and every sensitive act in the audit log.
"""

import csv
import io
import json
import os
import secrets
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from comptoir.assistant.endpoints import EndpointError, check_url, may_reach_private
from comptoir.assistant.models import AssistantSettings
from comptoir.customers.merging import merge_customers
from comptoir.security.audit import purge_audit_log, record
from comptoir.security.models import AppendOnly, AuditAction, AuditEntry
from comptoir.security.ratelimit import RateLimited, check_rate
from comptoir.security.secret_key import DEVELOPMENT_KEY, InsecureSecretKey, read_secret_key
from comptoir.tenancy.models import ApiToken, Role
from comptoir.touchpoints.email.models import Mailbox
from comptoir.touchpoints.messaging.models import MessagingAccount, Provider
from comptoir.touchpoints.messaging.receiving import webhook_accounts
from comptoir.touchpoints.phone.models import PhoneLine
from tests.factories import PASSWORD, ingest_chat

ROOT = Path(__file__).resolve().parent.parent
LOGIN = "/console/login/"


def comptoir_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python -m comptoir …`` with exactly ``env`` (plus PATH), as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "comptoir", *args],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def documented_production_environment() -> dict[str, str]:
    """deploy/systemd/comptoir.env.example, with a real secret where it says change-me."""
    env = {}
    for line in (ROOT / "deploy/systemd/comptoir.env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    return env


# --- Secret key ------------------------------------------------------------------------------


def test_without_debug_a_missing_or_published_key_is_refused_with_a_clear_error():
    for env in (
        {},
        {"SECRET_KEY": DEVELOPMENT_KEY},
        {"SECRET_KEY": "change-me-to-a-long-random-string"},
    ):
        with pytest.raises(InsecureSecretKey, match="SECRET_KEY"):
            read_secret_key(env, debug=False)
    assert read_secret_key({}, debug=True) == DEVELOPMENT_KEY
    assert read_secret_key({"SECRET_KEY": "k" * 60}, debug=False) == "k" * 60


def test_secret_key_file_is_read(tmp_path):
    path = tmp_path / "secret"
    path.write_text("s3cr3t-" * 10 + "\n")
    assert read_secret_key({"SECRET_KEY_FILE": str(path)}, debug=False) == "s3cr3t-" * 10
    with pytest.raises(InsecureSecretKey, match="cannot be read"):
        read_secret_key({"SECRET_KEY_FILE": str(tmp_path / "missing")}, debug=False)


def test_comptoir_refuses_to_start_without_debug_and_with_the_default_key():
    result = comptoir_command("check", env={"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set, or set to a published example value" in result.stderr


def test_check_deploy_fails_on_the_default_key_even_with_debug():
    result = comptoir_command("check", "--deploy", env={"DEBUG": "1"})
    assert result.returncode != 0
    assert "comptoir.E001" in result.stderr


def test_check_deploy_is_clean_with_the_documented_production_environment():
    result = comptoir_command(
        "check", "--deploy", "--fail-level", "WARNING", env=documented_production_environment()
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_password_policy_wants_twelve_characters_and_no_common_password():
    with pytest.raises(ValidationError):
        validate_password("Tr0ub4dor&3")  # 11 characters
    with pytest.raises(ValidationError):
        validate_password("password1234")  # in Django's list of common passwords
    validate_password("correct horse battery staple")


# --- Lockout and login rate limit ------------------------------------------------------------


def test_wrong_passwords_lock_the_account_out_even_with_the_right_one_then(client, agent, settings):
    username = agent.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(LOGIN, {"username": username, "password": "wrong"})
        assert response.status_code == 200
    # The last failure allowed locks the account out at once.
    assert client.post(LOGIN, {"username": username, "password": "no"}).status_code == 429
    response = client.post(LOGIN, {"username": username, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME * 3600
    assert "_auth_user_id" not in client.session
    assert "Too many sign-in attempts" in response.content.decode()
    # From another address too: the account is locked, not only the address.
    other = client.post(LOGIN, {"username": username, "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 429
    actions = list(AuditEntry.objects.filter(username=username).values_list("action", flat=True))
    assert actions.count(AuditAction.LOGIN_FAILED) >= settings.AXES_FAILURE_LIMIT
    assert AuditAction.LOCKED_OUT in actions
    assert AuditEntry.objects.filter(
        action=AuditAction.LOGIN_FAILED, ip_address="127.0.0.1"
    ).exists()


def test_wrong_passwords_from_one_address_lock_that_address_out_for_every_account(
    client, agent, colleague, settings
):
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": f"guess{n}", "password": "wrong"}, REMOTE_ADDR="10.9.9.9")
    response = client.post(
        LOGIN, {"username": colleague.user.username, "password": PASSWORD}, REMOTE_ADDR="10.9.9.9"
    )
    assert response.status_code == 429
    elsewhere = client.post(LOGIN, {"username": colleague.user.username, "password": PASSWORD})
    assert elsewhere.status_code == 302


def test_the_django_admin_login_is_locked_out_too(client, db, settings, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert (
            client.post("/admin/login/", {"username": "root", "password": "no"}).status_code == 200
        )
    assert client.post("/admin/login/", {"username": "root", "password": "no"}).status_code == 429
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 429
    assert response["Retry-After"]


def test_a_successful_login_resets_the_accounts_failures(client, agent, settings):
    username = agent.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(LOGIN, {"username": username, "password": "wrong"})
    assert client.post(LOGIN, {"username": username, "password": PASSWORD}).status_code == 302
    client.post("/console/logout/")
    client.post(LOGIN, {"username": username, "password": "wrong"})
    assert client.post(LOGIN, {"username": username, "password": PASSWORD}).status_code == 302
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN, username=username).count() == 2


def test_login_posts_are_rate_limited_per_address(client, agent, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "2/600"}
    for n in range(2):
        client.post(LOGIN, {"username": f"nobody{n}", "password": "x"}, REMOTE_ADDR="10.0.0.7")
    response = client.post(
        LOGIN, {"username": agent.user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.7"
    )
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    admin = client.post("/admin/login/", {"username": "x", "password": "y"}, REMOTE_ADDR="10.0.0.7")
    assert admin.status_code == 429


# --- Sessions --------------------------------------------------------------------------------


def log_in(client, membership):
    response = client.post(LOGIN, {"username": membership.user.username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def test_an_idle_session_ends(client, agent, settings):
    settings.SESSION_IDLE_TIMEOUT = 1800
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        log_in(client, agent)
        traveller.shift(timedelta(minutes=20))
        assert client.get("/console/").status_code == 200  # activity: the clock restarts
        traveller.shift(timedelta(minutes=20))
        assert client.get("/console/").status_code == 200
        traveller.shift(timedelta(minutes=31))
        response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert AuditEntry.objects.filter(action=AuditAction.SESSION_EXPIRED).count() == 1


def test_a_session_ends_after_its_absolute_lifetime_however_active(client, agent, settings):
    settings.SESSION_IDLE_TIMEOUT = 3600
    settings.SESSION_ABSOLUTE_LIFETIME = 4 * 3600
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        log_in(client, agent)
        for _ in range(7):
            traveller.shift(timedelta(minutes=30))
            assert client.get("/console/").status_code == 200
        traveller.shift(timedelta(minutes=31))
        assert client.get("/console/").status_code == 302


def test_session_cookie_lasts_no_longer_than_the_absolute_lifetime(settings):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_LIFETIME <= 24 * 3600


# --- Content-Security-Policy -----------------------------------------------------------------


def test_console_pages_carry_a_csp_whose_nonce_is_the_inline_scripts(agent_client, client):
    response = agent_client.get("/console/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in response.content.decode()
    assert "unsafe-inline" not in policy
    login = client.get(LOGIN)
    assert "Content-Security-Policy" in login


def test_the_widget_endpoints_carry_no_console_policy(client, brand):
    response = client.post(
        "/widget/api/session", {"brand": brand.slug}, content_type="application/json"
    )
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


# --- Rate limits -----------------------------------------------------------------------------


def widget_session(client, brand, **extra):
    return client.post(
        "/widget/api/session", {"brand": brand.slug}, content_type="application/json", **extra
    )


def test_new_widget_sessions_are_rate_limited_per_address(client, brand, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "widget_session": "3/600"}
    tokens = [widget_session(client, brand).json()["token"] for _ in range(3)]
    refused = widget_session(client, brand)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 0 < int(refused["Retry-After"]) <= 600
    assert refused["Access-Control-Allow-Origin"] == "*"
    # Another address is not affected; a returning visitor renews their token freely.
    assert widget_session(client, brand, REMOTE_ADDR="10.3.3.3").status_code == 200
    renewed = client.post(
        "/widget/api/session",
        {"brand": brand.slug, "token": tokens[0]},
        content_type="application/json",
    )
    assert renewed.status_code == 200


def test_widget_messages_are_rate_limited_per_visitor(client, brand, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "widget_message": "5/60"}
    token = widget_session(client, brand).json()["token"]

    def send():
        return client.post(
            "/widget/api/messages",
            {"text": "allo", "client_id": uuid.uuid4().hex},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    assert [send().status_code for _ in range(5)] == [201] * 5
    refused = send()
    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert refused.json()["error"]
    other = widget_session(client, brand).json()["token"]
    response = client.post(
        "/widget/api/messages",
        {"text": "moi aussi", "client_id": uuid.uuid4().hex},
        HTTP_AUTHORIZATION=f"Bearer {other}",
    )
    assert response.status_code == 201


def test_identify_is_rate_limited_per_visitor(client, brand, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "widget_identify": "2/600"}
    token = widget_session(client, brand).json()["token"]
    codes = [
        client.post(
            "/widget/api/identify",
            {"email": f"essai{n}@exemple.fr"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        ).status_code
        for n in range(3)
    ]
    assert codes == [200, 200, 429]


def callback(client, token, number):
    return client.post(
        "/widget/api/callbacks",
        {"number": number, "when": "now", "client_id": uuid.uuid4().hex},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_a_visitor_cannot_have_agents_call_many_different_numbers(client, brand, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "callback_numbers": "2/86400"}
    token = widget_session(client, brand).json()["token"]
    assert callback(client, token, "06 12 34 56 78").status_code == 201
    assert callback(client, token, "+33 6 12 34 56 78").status_code in (200, 201)  # same number
    assert callback(client, token, "06 98 76 54 32").status_code == 201
    refused = callback(client, token, "06 11 11 11 11")
    assert refused.status_code == 429
    assert refused.json()["code"] == "callback_numbers"
    assert refused["Retry-After"]
    # Asking again for a number already requested stays possible.
    assert callback(client, token, "06 12 34 56 78").status_code in (200, 201)


def test_callback_requests_are_rate_limited_per_visitor(client, brand, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "callback": "3/3600"}
    token = widget_session(client, brand).json()["token"]
    codes = [callback(client, token, "06 12 34 56 78").status_code for _ in range(4)]
    assert codes[-1] == 429
    assert all(code in (200, 201) for code in codes[:3])


def test_the_api_is_rate_limited_per_token(client, agent, colleague, settings):
    """Each token has its own budget (the inbound mail endpoint counts in it too)."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": "3/60"}
    _, key = ApiToken.issue(agent, "integration")
    _, other_key = ApiToken.issue(colleague, "other")
    codes = [
        client.get("/api/conversations", HTTP_AUTHORIZATION=f"Bearer {key}").status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/conversations", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert refused.json()["detail"].startswith("Too many requests")
    assert 0 < int(refused["Retry-After"]) <= 60
    assert (
        client.get("/api/conversations", HTTP_AUTHORIZATION=f"Bearer {other_key}").status_code
        == 200
    )


def test_rate_limits_are_counted_in_redis_when_it_is_configured(settings):
    import redis

    prefix = f"comptoir-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": prefix,
        }
    }
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "widget_message": "2/60"}
    check_rate("widget_message", "visitor-1")
    check_rate("widget_message", "visitor-1")
    with pytest.raises(RateLimited) as limited:
        check_rate("widget_message", "visitor-1")
    assert 0 < limited.value.retry_after <= 60
    server = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    keys = server.keys(f"{prefix}:*ratelimit:widget_message:*")
    assert len(keys) == 1
    assert b"visitor-1" not in keys[0]  # hashed
    server.delete(*keys)


def test_rate_limits_can_be_lifted(client, brand, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "widget_session": "1/600"}
    settings.RATE_LIMITS_ENABLED = False
    assert [widget_session(client, brand).status_code for _ in range(3)] == [200] * 3


# --- Second factor ---------------------------------------------------------------------------


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_an_administrator_must_set_up_a_second_factor_then_use_it(client, admin, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = [Role.ADMIN]
    log_in(client, admin)
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/security/two-factor/setup/")
    setup = client.get(response["Location"])
    assert setup.status_code == 200
    device = TOTPDevice.objects.get(user=admin.user, confirmed=False)
    assert setup.context["secret"] in setup.content.decode()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert client.post(setup.request["PATH_INFO"], {"code": "000000"}).status_code == 400
        # django-otp throttles a device after a failure (1 s, then doubling).
        traveller.shift(timedelta(seconds=2))
        confirmed = client.post(
            "/console/security/two-factor/setup/",
            {"code": current_code(device), "next": "/console/"},
        )
    assert confirmed.status_code == 200
    codes = confirmed.context["codes"]
    assert len(codes) == 10
    assert client.get("/console/").status_code == 200
    assert client.get("/admin/").status_code == 302  # not staff: the admin's own refusal

    # Next sign-in: the code is asked for; a recovery code works once.
    client.post("/console/logout/")
    log_in(client, admin)
    asked = client.get("/console/")
    assert asked["Location"].startswith("/console/security/two-factor/")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert client.post("/console/security/two-factor/", {"code": "12345678"}).status_code == 400
        traveller.shift(timedelta(seconds=2))
        used = client.post("/console/security/two-factor/", {"code": codes[0], "next": "/console/"})
        assert used.status_code == 302
        assert used["Location"] == "/console/"
        assert client.get("/console/").status_code == 200
        client.post("/console/logout/")
        log_in(client, admin)
        traveller.shift(timedelta(seconds=10))
        assert client.post("/console/security/two-factor/", {"code": codes[0]}).status_code == 400
        traveller.shift(timedelta(seconds=10))
        assert client.post("/console/security/two-factor/", {"code": codes[1]}).status_code == 302
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        AuditAction.TWO_FACTOR_ENABLED,
        AuditAction.RECOVERY_CODE_USED,
        AuditAction.TWO_FACTOR_FAILED,
    } <= actions


def test_an_agent_is_not_asked_unless_their_role_requires_it(client, agent, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = [Role.ADMIN]
    log_in(client, agent)
    assert client.get("/console/").status_code == 200
    client.post("/console/logout/")
    settings.TWO_FACTOR_REQUIRED_ROLES = [Role.AGENT, Role.ADMIN]
    log_in(client, agent)
    assert client.get("/console/")["Location"].startswith("/console/security/two-factor/setup/")


def test_the_django_admin_asks_a_superuser_for_the_second_factor(
    client, db, settings, django_user_model
):
    settings.TWO_FACTOR_REQUIRED_ROLES = [Role.ADMIN]
    django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    assert (
        client.post("/admin/login/", {"username": "root", "password": PASSWORD}).status_code == 302
    )
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/security/two-factor/setup/")


def test_the_default_requires_the_second_factor_of_administrators():
    """The settings' own default (this test run sets none for the other tests)."""
    result = comptoir_command(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.TWO_FACTOR_REQUIRED_ROLES)",
        env={"DEBUG": "1"},
    )
    assert result.stdout.strip().splitlines()[-1] == "['admin']", result.stderr


# --- Audit log -------------------------------------------------------------------------------


def test_viewing_a_customer_or_a_conversation_is_recorded_with_the_address(
    agent_client, agent, brand
):
    conversation = ingest_chat(brand, "Bonjour").conversation
    agent_client.get(f"/console/customers/{conversation.customer_id}/", REMOTE_ADDR="192.0.2.7")
    agent_client.get(f"/console/c/{conversation.pk}/", REMOTE_ADDR="192.0.2.7")
    entries = list(
        AuditEntry.objects.filter(brand=brand).exclude(action=AuditAction.LOGIN).order_by("id")
    )
    assert [(e.action, e.target_type, e.target_id) for e in entries] == [
        (AuditAction.CUSTOMER_VIEWED, "customer", str(conversation.customer_id)),
        (AuditAction.CONVERSATION_VIEWED, "conversation", str(conversation.pk)),
    ]
    assert {e.ip_address for e in entries} == {"192.0.2.7"}
    assert {e.user_id for e in entries} == {agent.user_id}


def test_a_merge_is_recorded(brand, admin):
    a = ingest_chat(brand, "un").conversation.customer
    b = ingest_chat(brand, "deux").conversation.customer
    merge_customers(admin, a, b)
    entry = AuditEntry.objects.get(action=AuditAction.CUSTOMER_MERGED)
    assert entry.target_id == str(a.pk)
    assert entry.details["absorbed_customer_id"] == b.pk
    assert entry.username == admin.user.username


def test_a_role_change_is_recorded(brand, agent):
    agent.role = Role.SUPERVISOR
    agent.save()
    entry = AuditEntry.objects.get(action=AuditAction.ROLE_CHANGED)
    assert entry.details == {
        "member": agent.user.username,
        "before": "agent",
        "after": "supervisor",
    }
    assert entry.brand_id == brand.pk


def test_administrators_read_and_export_their_brands_audit_log(client, brand, admin, outsider):
    record(
        AuditAction.CUSTOMER_EXPORTED,
        user=admin.user,
        brand_id=brand.pk,
        target_type="customer",
        target_id=7,
    )
    record(
        AuditAction.CUSTOMER_EXPORTED,
        user=outsider.user,
        brand_id=outsider.brand_id,
        target_id=99,
        target_type="customer",
    )
    client.force_login(admin.user)
    page = client.get("/console/security/audit/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "customer #7" in text
    assert "customer #99" not in text
    exported = client.get("/console/security/audit/export?format=csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0] == [
        "at",
        "action",
        "username",
        "ip_address",
        "target_type",
        "target_id",
        "details",
    ]
    assert [row[5] for row in rows[1:] if row[1] == "customer_exported"] == ["7"]
    lines = client.get("/console/security/audit/export?format=json").content
    entries = [json.loads(line) for line in lines.decode().splitlines()]
    assert [e["action"] for e in entries] == [
        "customer_exported",
        "login",
        "audit_exported",
        "audit_exported",
    ]
    assert client.get("/console/security/audit/export?format=xml").status_code == 400


def test_the_audit_log_is_append_only(brand, admin):
    entry = record(AuditAction.LOGIN, user=admin.user, brand_id=brand.pk)
    entry.action = AuditAction.LOGOUT
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(action="logout")
    if connection.vendor == "postgresql":
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "UPDATE security_auditentry SET action = 'logout' WHERE id = %s", [entry.pk]
            )
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM security_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == AuditAction.LOGIN


def test_the_retention_purge_removes_only_old_entries(brand, admin, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    old = AuditEntry.objects.create(
        action=AuditAction.LOGIN, brand=brand, at=timezone.now() - timedelta(days=31)
    )
    recent = record(AuditAction.LOGIN, user=admin.user, brand_id=brand.pk)
    assert purge_audit_log() == 1
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not AuditEntry.objects.filter(pk=old.pk).exists()


# --- The demo's assistant --------------------------------------------------------------------


def test_load_demo_leaves_private_addresses_off(db, settings):
    call_command("load_demo", stdout=io.StringIO())
    assistant = AssistantSettings.objects.get()
    assert assistant.allow_private_addresses is False
    with pytest.raises(EndpointError, match="private"):
        check_url(assistant.action_base_url, allow_private=assistant.allow_private_addresses)
    settings.ASSISTANT_PRIVATE_ORIGINS = ["http://127.0.0.1:8000"]
    order = assistant.action_base_url + "/orders/1"
    assert may_reach_private(assistant, order)
    assert check_url(order, allow_private=may_reach_private(assistant, order)).address == (
        "127.0.0.1"
    )
    assert not may_reach_private(assistant, "http://127.0.0.1:6379/")


# --- Channel secrets at rest -----------------------------------------------------------------


def stored_columns(table: str, columns: str, pk: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()


def test_channel_secrets_are_encrypted_at_rest_and_read_back(brand):
    account = MessagingAccount.objects.create(
        brand=brand,
        provider=Provider.WHATSAPP,
        external_id="1001",
        access_token="EAAG-token-secret",
        app_secret="app-secret-value",
        verify_token="verify-me",
    )
    line = PhoneLine.objects.create(
        brand=brand, number="+33180000009", webhook_secret="hook-secret", twilio_auth_token="tw"
    )
    mailbox = Mailbox.objects.create(
        brand=brand, address="s@maison.example", imap_url="imaps://u:hunter2@imap.example/INBOX"
    )
    stored = [
        *stored_columns(
            "messaging_messagingaccount", "access_token, app_secret, verify_token", account.pk
        ),
        *stored_columns("phone_phoneline", "webhook_secret, twilio_auth_token", line.pk),
        *stored_columns("email_mailbox", "imap_url", mailbox.pk),
    ]
    for value, secret in zip(
        stored,
        ["EAAG-token-secret", "app-secret-value", "verify-me", "hook-secret", "tw", "hunter2"],
        strict=True,
    ):
        assert value.startswith("fernet:")
        assert secret not in value
    assert MessagingAccount.objects.get().app_secret == "app-secret-value"
    assert PhoneLine.objects.get().webhook_secret == "hook-secret"
    assert Mailbox.objects.get().imap_url == "imaps://u:hunter2@imap.example/INBOX"
    # Rows built from raw SQL (the webhook's one query) decrypt too.
    (from_sql,) = webhook_accounts(brand.slug, Provider.WHATSAPP)
    assert from_sql.app_secret == "app-secret-value"
    # No secret stays "" and can still be filtered on.
    assert PhoneLine.objects.filter(twilio_account_sid="").count() == 1
    assert Mailbox.objects.exclude(imap_url="").count() == 1


def test_a_row_saved_before_the_migration_reads_as_is_and_is_encrypted_at_its_next_save(brand):
    line = PhoneLine.objects.create(brand=brand, number="+33180000008", webhook_secret="x")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE phone_phoneline SET webhook_secret = 'plain' WHERE id = %s", [line.pk]
        )
    line = PhoneLine.objects.get()
    assert line.webhook_secret == "plain"
    line.save()
    assert stored_columns("phone_phoneline", "webhook_secret", line.pk)[0].startswith("fernet:")


def test_encryption_keys_rotate(brand, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    line = PhoneLine.objects.create(brand=brand, number="+33180000007", webhook_secret="s3")
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    assert PhoneLine.objects.get().webhook_secret == "s3"
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert PhoneLine.objects.get(pk=line.pk).webhook_secret == "s3"


def test_a_cache_that_fails_lifts_the_limits_instead_of_refusing(settings, monkeypatch, caplog):
    """Redis down: requests go through (no 500, no wait on each), one warning per outage."""
    from comptoir.security import ratelimit
    from tests.live_server import free_port

    monkeypatch.setattr(ratelimit, "_cache_down_until", 0.0)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "widget_message": "1/60"}
    for _ in range(3):
        check_rate("widget_message", "visitor-2")
    assert [r.message for r in caplog.records if "rate limits lifted" in r.message]
    assert len([r for r in caplog.records if "rate limits lifted" in r.message]) == 1
