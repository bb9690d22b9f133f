"""The console's Settings: a brand's administrators run it without Django admin or a shell.

Each section is driven through its pages as an administrator would, then
checked where it matters: the invited agent signs in with the password they
chose from the mailed link (a real SMTP server), a phone line made in the
console accepts call events signed with the secret shown once, a Meta
webhook handshake answers with the verify token shown once, an API token
works until revoked. Permissions of every URL are in ``test_permissions``.
"""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from comptoir.events.models import Event
from comptoir.tasks import run_pending
from comptoir.tenancy.models import ApiToken, Membership, Role, Team
from comptoir.touchpoints.email.models import Mailbox
from comptoir.touchpoints.messaging.models import MessagingAccount
from comptoir.touchpoints.phone.models import Call, PhoneLine
from tests.factories import PASSWORD, make_agent
from tests.test_email_outbound import smtp  # noqa: F401 — the real SMTP server fixture
from tests.test_phone import event, post_generic, sign

T0 = datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin.user)
    return client


def settings_events(brand, **lookups) -> list[dict]:
    return [
        event.payload
        for event in Event.objects.filter(brand=brand, kind="settings.changed", **lookups).order_by(
            "pk"
        )
    ]


# --- The brand -----------------------------------------------------------------------------

BRAND_FORM = {
    "name": "Maison Lune",
    "default_language": "en",
    "languages": ["fr", "en"],
    "default_region": "be",
    "time_zone": "Europe/Brussels",
    "widget_color": "#AA3377",
    "widget_greeting_fr": "Bienvenue chez Maison Lune !",
    "widget_greeting_en": "Welcome to Maison Lune!",
    "widget_subtitle_fr": "",
    "widget_subtitle_en": "We answer within the hour.",
}


def test_the_administrator_changes_the_brand_and_the_widget_speaks_its_words(
    admin_client, brand, admin
):
    response = admin_client.post(reverse("administration:brand"), BRAND_FORM)
    assert response.status_code == 302
    brand.refresh_from_db()
    assert (brand.name, brand.default_language, brand.languages) == ("Maison Lune", "en", "fr,en")
    assert (brand.default_region, brand.time_zone, brand.widget_color) == (
        "BE",
        "Europe/Brussels",
        "#aa3377",
    )
    [change] = settings_events(brand, actor_id=admin.pk)
    assert change["object"] == "brand" and change["change"] == "updated"
    assert "widget_color" in change["fields"] and "widget_subtitle_fr" not in change["fields"]

    session = admin_client.post(
        reverse("widget:session"), {"brand": brand.slug, "language": "en"}, "application/json"
    ).json()
    assert session["brand"]["color"] == "#aa3377"
    assert session["texts"]["greeting"] == "Welcome to Maison Lune!"
    assert session["texts"]["subtitle"] == "We answer within the hour."
    french = admin_client.post(
        reverse("widget:session"), {"brand": brand.slug, "language": "fr"}, "application/json"
    ).json()
    assert french["texts"]["greeting"] == "Bienvenue chez Maison Lune !"
    # A blank text keeps Comptoir's own, translated.
    assert french["texts"]["subtitle"] == "Un conseiller vous répond ici."


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Europe/Atlantis"),
        ("widget_color", "red"),
        ("default_region", "XX"),
        ("default_language", "de"),
        ("languages", ["fr"]),  # without the default language, en
    ],
)
def test_bad_brand_settings_are_refused_with_the_reason_and_nothing_changes(
    admin_client, brand, field, value
):
    response = admin_client.post(reverse("administration:brand"), {**BRAND_FORM, field: value})
    assert response.status_code == 400
    assert b"settings__error" in response.content
    brand.refresh_from_db()
    assert brand.name != "Maison Lune"
    assert settings_events(brand) == []


# --- Agents --------------------------------------------------------------------------------


def test_an_invited_agent_chooses_a_password_from_the_mailed_link_and_signs_in(
    admin_client,
    client,
    brand,
    admin,
    smtp,  # noqa: F811
):
    response = admin_client.post(
        reverse("administration:agent_invite"),
        {"email": "Nina@Example.org", "first_name": "Nina", "last_name": "Roux", "role": "agent"},
    )
    assert response.status_code == 302
    member = Membership.objects.get(brand=brand, user__email="nina@example.org")
    assert member.role == Role.AGENT and not member.user.has_usable_password()
    assert settings_events(brand)[-1]["change"] == "invited"

    run_pending()
    [mail] = smtp.received
    assert mail.rcpt_tos == ["nina@example.org"]
    body = mail.message.get_content()
    link = re.search(r"https?://\S+/console/password/\S+/", body).group(0)
    path = link.split("testserver", 1)[1]

    admin_client.logout()
    page = client.get(path, follow=True)
    assert page.status_code == 200
    assert b"nina@example.org" in page.content
    new_password = "a-Long-and-unusual-passphrase-7"
    done = client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else path,
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302 and done["Location"] == reverse("console:login")
    # Through the login page, as Nina does (the lockout's backend refuses client.login()).
    signed_in = client.post(
        reverse("console:login"), {"username": "nina@example.org", "password": new_password}
    )
    assert signed_in.status_code == 302
    assert client.get(reverse("console:inbox")).status_code == 200

    # The link is spent once the password is set.
    client.logout()
    assert b"no longer works" in client.get(path, follow=True).content


def test_an_address_that_already_has_an_account_is_refused(admin_client, brand, agent):
    agent.user.email = "taken@example.org"
    agent.user.save()
    response = admin_client.post(
        reverse("administration:agent_invite"),
        {"email": "taken@example.org", "first_name": "Twin", "role": "agent"},
    )
    assert response.status_code == 400
    assert "already an agent of this brand" in response.content.decode()
    assert get_user_model().objects.filter(email="taken@example.org").count() == 1


def test_roles_change_and_a_deactivated_agent_loses_the_console(
    admin_client, client, brand, admin, agent
):
    url = reverse("administration:agent_role", args=[agent.pk])
    assert admin_client.post(url, {"role": "supervisor"}).status_code == 302
    agent.refresh_from_db()
    assert agent.role == Role.SUPERVISOR

    assert (
        admin_client.post(reverse("administration:agent_deactivate", args=[agent.pk])).status_code
        == 302
    )
    agent.refresh_from_db()
    assert not agent.is_active
    other = client.__class__()
    other.force_login(agent.user)
    refused = other.get(reverse("console:inbox"))
    assert refused.status_code == 403
    assert "no seat in a brand" in refused.content.decode()

    assert (
        admin_client.post(reverse("administration:agent_reactivate", args=[agent.pk])).status_code
        == 302
    )
    assert other.get(reverse("console:inbox")).status_code == 200
    changes = [payload["change"] for payload in settings_events(brand, actor_id=admin.pk)]
    assert changes == ["role_changed", "deactivated", "reactivated"]


def test_an_administrator_cannot_demote_or_deactivate_themselves(admin_client, admin):
    for url, data in (
        (reverse("administration:agent_role", args=[admin.pk]), {"role": "agent"}),
        (reverse("administration:agent_deactivate", args=[admin.pk]), {}),
    ):
        response = admin_client.post(url, data)
        assert response.status_code == 403
        assert "your own seat" in response.content.decode()
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN and admin.is_active


# --- Teams ---------------------------------------------------------------------------------


def test_teams_are_created_and_changed_with_their_members(admin_client, brand, agent, colleague):
    response = admin_client.post(
        reverse("administration:team_create"),
        {"name": "Returns", "members": [agent.pk], "auto_assign": "on"},
    )
    assert response.status_code == 302
    team = Team.objects.get(brand=brand, name="Returns")
    assert list(team.members.all()) == [agent] and team.auto_assign

    edit = reverse("administration:team", args=[team.pk])
    assert admin_client.get(edit).status_code == 200
    admin_client.post(edit, {"name": "Returns & refunds", "members": [agent.pk, colleague.pk]})
    team.refresh_from_db()
    assert team.name == "Returns & refunds" and not team.auto_assign
    assert set(team.members.all()) == {agent, colleague}
    assert [p["change"] for p in settings_events(brand)] == ["created", "updated"]

    clash = admin_client.post(reverse("administration:team_create"), {"name": "returns & REFUNDS"})
    assert clash.status_code == 400
    assert "already has a team of that name" in clash.content.decode()


def test_a_team_member_must_be_an_agent_of_the_brand(admin_client, brand, outsider):
    response = admin_client.post(
        reverse("administration:team_create"), {"name": "Mixed", "members": [outsider.pk]}
    )
    assert response.status_code == 400
    assert not Team.objects.filter(name="Mixed").exists()


# --- Channels ------------------------------------------------------------------------------


def test_a_mailbox_keeps_its_imap_password_out_of_the_page(admin_client, brand):
    imap = "imaps://support:s3cr3t-pass@imap.example.org:993/INBOX"
    response = admin_client.post(
        reverse("administration:mailbox_create"),
        {
            "address": "Support@Maison.example",
            "sender_name": "Maison",
            "acknowledge": "on",
            "response_time_hours": 12,
            "reopen_window_days": 7,
            "imap_url": imap,
        },
    )
    assert response.status_code == 302
    mailbox = Mailbox.objects.get(brand=brand)
    assert (mailbox.address, mailbox.imap_url) == ("support@maison.example", imap)
    edit = reverse("administration:mailbox", args=[mailbox.pk])
    page = admin_client.get(edit).content.decode()
    assert "s3cr3t-pass" not in page and "Leave blank to keep it" in page

    form = {"address": mailbox.address, "sender_name": "Maison Support"}
    form |= {"response_time_hours": 24, "reopen_window_days": 7, "imap_url": ""}
    assert admin_client.post(edit, form).status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.sender_name == "Maison Support" and mailbox.imap_url == imap
    assert not mailbox.acknowledge
    assert admin_client.post(edit, {**form, "stop_imap": "on"}).status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.imap_url == ""
    assert "s3cr3t" not in str(settings_events(brand))


def test_a_phone_line_made_in_the_console_takes_calls_signed_with_the_secret_shown_once(
    admin_client, client, brand
):
    response = admin_client.post(
        reverse("administration:phone_create"),
        {"number": "+33 1 80 00 00 42", "label": "Standard", "provider": "log", "is_active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    line = PhoneLine.objects.get(brand=brand)
    assert line.number == "+33180000042"
    secret = line.webhook_secret
    assert secret and secret in response.content.decode()
    assert (
        secret
        not in admin_client.get(reverse("administration:phone", args=[line.pk])).content.decode()
    )

    call = event("queued", T0, to=line.number)
    assert post_generic(client, brand, call, signature=sign(_body(call), secret)).status_code == 200
    assert Call.objects.filter(brand=brand, line=line).exists()

    rotated = admin_client.post(reverse("administration:phone_rotate", args=[line.pk]), follow=True)
    line.refresh_from_db()
    assert line.webhook_secret != secret and line.webhook_secret in rotated.content.decode()
    later = event("ringing", T0, to=line.number)
    assert (
        post_generic(client, brand, later, signature=sign(_body(later), secret)).status_code == 403
    )
    assert (
        post_generic(
            client, brand, later, signature=sign(_body(later), line.webhook_secret)
        ).status_code
        == 200
    )
    assert [p["change"] for p in settings_events(brand)] == ["created", "secret_rotated"]
    assert secret not in str(settings_events(brand))


def _body(payload: dict) -> bytes:
    import json

    return json.dumps(payload).encode()


def test_twilio_needs_its_credentials(admin_client, brand):
    response = admin_client.post(
        reverse("administration:phone_create"), {"number": "+33180000043", "provider": "twilio"}
    )
    assert response.status_code == 400
    assert "account SID and auth token" in response.content.decode()


def test_a_whatsapp_account_answers_meta_s_handshake_with_the_token_shown_once(
    admin_client, client, brand
):
    response = admin_client.post(
        reverse("administration:messaging_create"),
        {
            "provider": "whatsapp",
            "external_id": "1098765",
            "display_name": "+33 6 00 00 00 00",
            "app_secret": "meta-app-secret",
            "access_token": "graph-token",
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    account = MessagingAccount.objects.get(brand=brand)
    token = account.verify_token
    assert token in response.content.decode()
    page = admin_client.get(reverse("administration:messaging", args=[account.pk])).content.decode()
    assert token not in page and "meta-app-secret" not in page and "graph-token" not in page

    def handshake(verify_token: str):
        query = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": "42"}
        return client.get(reverse("messaging:whatsapp_webhook", args=[brand.slug]), query)

    assert handshake(token).content == b"42"
    admin_client.post(reverse("administration:messaging_rotate", args=[account.pk]))
    assert handshake(token).status_code == 403
    account.refresh_from_db()
    assert handshake(account.verify_token).content == b"42"

    # Secrets left blank are kept.
    edit = {
        "provider": "whatsapp",
        "external_id": "1098765",
        "display_name": "Shop",
        "is_active": "on",
    }
    assert (
        admin_client.post(reverse("administration:messaging", args=[account.pk]), edit).status_code
        == 302
    )
    account.refresh_from_db()
    assert (account.display_name, account.app_secret, account.access_token) == (
        "Shop",
        "meta-app-secret",
        "graph-token",
    )


# --- API tokens ----------------------------------------------------------------------------


def test_an_api_token_is_shown_once_works_and_stops_when_revoked(
    admin_client, client, brand, admin
):
    response = admin_client.post(
        reverse("administration:token_create"), {"name": "CRM sync", "scope": "read"}, follow=True
    )
    assert response.status_code == 200
    key = re.search(r"cpt_[A-Za-z0-9_-]+", response.content.decode()).group(0)
    token = ApiToken.objects.get(membership=admin)
    assert token.name == "CRM sync"
    assert key not in admin_client.get(reverse("administration:tokens")).content.decode()

    assert client.get("/api/conversations", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    revoke = admin_client.post(reverse("administration:token_revoke", args=[token.pk]))
    assert revoke.status_code == 302
    assert client.get("/api/conversations", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401
    assert [p["change"] for p in settings_events(brand)] == ["created", "revoked"]


# --- Django admin and people without a brand -----------------------------------------------


def test_django_admin_refuses_a_brand_administrator_even_with_the_staff_flag(client, admin):
    admin.user.is_staff = True
    admin.user.save()
    client.force_login(admin.user)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_superuser_without_a_brand_is_told_what_to_do(client, db):
    operator = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200
    response = client.get(reverse("console:inbox"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "no seat in a brand" in page
    assert reverse("admin:tenancy_brand_add") in page


def test_settings_are_one_entry_of_the_administrator_s_top_bar(client, brand):
    for role, shown in ((Role.ADMIN, True), (Role.SUPERVISOR, False), (Role.AGENT, False)):
        client.force_login(make_agent(brand, role).user)
        page = client.get(reverse("console:inbox")).content.decode()
        assert (reverse("administration:brand") in page) is shown


def test_the_widget_does_not_promise_an_advisor_while_the_assistant_answers_first(client, brand):
    from comptoir.assistant.enabled_brands import forget_enabled_brands
    from comptoir.assistant.models import AssistantSettings

    def subtitle() -> str:
        session = client.post(
            reverse("widget:session"), {"brand": brand.slug, "language": "en"}, "application/json"
        ).json()
        return session["texts"]["subtitle"]

    assert subtitle() == "An advisor answers you here."
    AssistantSettings.objects.update_or_create(brand=brand, defaults={"enabled": True})
    forget_enabled_brands()
    assert "advisor answers you here" not in subtitle()
    assert "assistant" in subtitle()


def test_a_mailbox_s_own_smtp_server_sends_its_replies(
    admin_client,
    brand,
    admin,
    smtp,  # noqa: F811 — the platform's server
):
    from comptoir.conversations.actions import send_reply
    from comptoir.conversations.models import Conversation
    from tests.smtp_server import SmtpServer
    from tests.test_email_inbound import mail, receive

    own = SmtpServer().start()
    try:
        form = {"address": "support@maison.example", "sender_name": "Maison"}
        form |= {"response_time_hours": 24, "reopen_window_days": 7}
        bad = admin_client.post(
            reverse("administration:mailbox_create"), {**form, "smtp_url": "ftp://x"}
        )
        assert bad.status_code == 400
        url = f"smtp://127.0.0.1:{own.port}"  # the test server takes no AUTH
        assert (
            admin_client.post(
                reverse("administration:mailbox_create"), {**form, "smtp_url": url}
            ).status_code
            == 302
        )
        outcome = receive(mail("Où est mon colis ?", sender="ana@example.com"))
        conversation = Conversation.objects.get(pk=outcome.conversation_id)
        send_reply(admin, conversation, "Il arrive demain.")
        run_pending()
        assert [m.rcpt_tos for m in own.received] == [["ana@example.com"]]
        assert smtp.received == []
        page = admin_client.get(reverse("administration:mailbox", args=[Mailbox.objects.get().pk]))
        assert f":{own.port}" not in page.content.decode()  # write-only, like the IMAP address
    finally:
        own.stop()
