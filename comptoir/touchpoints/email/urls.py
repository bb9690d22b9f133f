"""E-mail URLs (namespace ``email``): the quarantine in the console, the raw-mail endpoint."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.touchpoints.email import views

app_name = "email"

urlpatterns = [
    path("console/mail/quarantine/", views.quarantine_list, name="quarantine"),
    path(
        "console/mail/quarantine/<id:quarantined_id>/raw/",
        views.quarantine_raw,
        name="quarantine_raw",
    ),
    path(
        "console/mail/quarantine/<id:quarantined_id>/retry/",
        views.quarantine_retry,
        name="quarantine_retry",
    ),
    path("api/inbound/email", views.inbound_email, name="inbound"),
]
