"""Console URLs, mounted at ``/console/`` (namespace ``console``)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.console import views
from comptoir.customers import console_views as customer_views
from comptoir.security.views import console_login

app_name = "console"

urlpatterns = [
    # Rate-limited per client address; lockouts by django-axes (comptoir.security).
    path("login/", console_login, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # An invited agent chooses their password (Django's password-reset token, mailed by
    # tenancy.tasks.send_invitation); then signs in.
    path(
        "password/<uidb64>/<token>/",
        views.PasswordSetView.as_view(),
        name="password_set",
    ),
    path("", views.inbox, name="inbox"),
    path("availability/", views.availability, name="availability"),
    path("c/<id:conversation_id>/", views.conversation_detail, name="conversation"),
    path("c/<id:conversation_id>/compose/", views.compose, name="compose"),
    path("c/<id:conversation_id>/assign/", views.assign, name="assign"),
    path("c/<id:conversation_id>/resolve/", views.resolve, name="resolve"),
    path("c/<id:conversation_id>/reopen/", views.reopen, name="reopen"),
    path("c/<id:conversation_id>/pending/", views.pending, name="pending"),
    path("c/<id:conversation_id>/thread/", views.thread_fragment, name="thread_fragment"),
    path(
        "c/<id:conversation_id>/panel/",
        views.conversation_panel_fragment,
        name="conversation_panel_fragment",
    ),
    path("customers/<id:customer_id>/", views.customer_detail, name="customer"),
    path(
        "customers/<id:customer_id>/panel/",
        views.customer_panel_fragment,
        name="customer_panel_fragment",
    ),
    path(
        "customers/<id:customer_id>/identities/add/",
        customer_views.identity_add,
        name="identity_add",
    ),
    path(
        "customers/<id:customer_id>/consents/",
        customer_views.consent_record,
        name="consent_record",
    ),
    path(
        "customers/<id:customer_id>/advisor/",
        customer_views.advisor_set,
        name="advisor_set",
    ),
    path(
        "identities/<id:identity_id>/verify/",
        customer_views.identity_verify,
        name="identity_verify",
    ),
    path(
        "identities/<id:identity_id>/remove/",
        customer_views.identity_remove,
        name="identity_remove",
    ),
    path("duplicates/", customer_views.duplicates, name="duplicates"),
    path(
        "duplicates/<id:proposal_id>/merge/", customer_views.proposal_merge, name="proposal_merge"
    ),
    path(
        "duplicates/<id:proposal_id>/dismiss/",
        customer_views.proposal_dismiss,
        name="proposal_dismiss",
    ),
    path("merges/<id:merge_id>/unmerge/", customer_views.merge_undo, name="merge_undo"),
    path("fragments/inbox/", views.inbox_fragment, name="inbox_fragment"),
    path("attachments/<id:attachment_id>/", views.attachment_file, name="attachment"),
]
