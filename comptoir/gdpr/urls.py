"""Data subjects' rights in the console and the widget (namespace ``gdpr``)."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.gdpr import console_views, views, widget_views

app_name = "gdpr"

urlpatterns = [
    path("console/customers/<id:customer_id>/export.json", views.export, name="export"),
    path("console/customers/<id:customer_id>/erase/", views.erase, name="erase"),
    path(
        "console/customers/<id:customer_id>/data-requests/",
        console_views.request_open,
        name="request_open",
    ),
    path("console/privacy/", console_views.processing_page, name="processing"),
    path("console/privacy/retention/", console_views.retention_save, name="retention"),
    path("console/privacy/requests/", console_views.requests_page, name="requests"),
    path(
        "console/privacy/requests/<id:data_request_id>/export.zip",
        console_views.request_archive,
        name="request_archive",
    ),
    path(
        "console/privacy/requests/<id:data_request_id>/fulfil/",
        console_views.request_fulfil,
        name="request_fulfil",
    ),
    path(
        "console/privacy/requests/<id:data_request_id>/reject/",
        console_views.request_reject,
        name="request_reject",
    ),
    path("widget/api/privacy/consents", widget_views.consents, name="widget_consents"),
    path("widget/api/privacy/requests", widget_views.data_requests, name="widget_requests"),
]
