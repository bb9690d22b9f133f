"""The console's Settings, mounted under ``/console/settings/`` (namespace ``administration``)."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.administration import views

app_name = "administration"

urlpatterns = [
    path("console/settings/", views.brand, name="brand"),
    path("console/settings/agents/", views.agents, name="agents"),
    path("console/settings/agents/invite/", views.agent_invite, name="agent_invite"),
    path("console/settings/agents/<id:membership_id>/role/", views.agent_role, name="agent_role"),
    path(
        "console/settings/agents/<id:membership_id>/deactivate/",
        views.agent_deactivate,
        name="agent_deactivate",
    ),
    path(
        "console/settings/agents/<id:membership_id>/reactivate/",
        views.agent_reactivate,
        name="agent_reactivate",
    ),
    path(
        "console/settings/agents/<id:membership_id>/resend/",
        views.agent_resend,
        name="agent_resend",
    ),
    path("console/settings/teams/", views.teams, name="teams"),
    path("console/settings/teams/new/", views.team_create, name="team_create"),
    path("console/settings/teams/<id:team_id>/", views.team_edit, name="team"),
    path("console/settings/channels/", views.channels, name="channels"),
    path("console/settings/channels/mailboxes/new/", views.mailbox_edit, name="mailbox_create"),
    path(
        "console/settings/channels/mailboxes/<id:mailbox_id>/", views.mailbox_edit, name="mailbox"
    ),
    path("console/settings/channels/messaging/new/", views.messaging_edit, name="messaging_create"),
    path(
        "console/settings/channels/messaging/<id:account_id>/",
        views.messaging_edit,
        name="messaging",
    ),
    path(
        "console/settings/channels/messaging/<id:account_id>/rotate/",
        views.messaging_rotate,
        name="messaging_rotate",
    ),
    path("console/settings/channels/phone/new/", views.phone_edit, name="phone_create"),
    path("console/settings/channels/phone/<id:line_id>/", views.phone_edit, name="phone"),
    path(
        "console/settings/channels/phone/<id:line_id>/rotate/",
        views.phone_rotate,
        name="phone_rotate",
    ),
    path("console/settings/api-tokens/", views.tokens, name="tokens"),
    path("console/settings/api-tokens/new/", views.token_create, name="token_create"),
    path(
        "console/settings/api-tokens/<id:token_id>/revoke/",
        views.token_revoke,
        name="token_revoke",
    ),
]
