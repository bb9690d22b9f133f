"""Outbound webhook pages of the console (administrators of the brand)."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.outbound_webhooks import console_views

app_name = "outbound_webhooks"

urlpatterns = [
    path("console/webhooks/", console_views.overview, name="overview"),
    path("console/webhooks/<id:endpoint_id>/", console_views.endpoint_edit, name="endpoint"),
    path(
        "console/webhooks/<id:endpoint_id>/rotate/",
        console_views.endpoint_rotate,
        name="endpoint_rotate",
    ),
    path(
        "console/webhooks/<id:endpoint_id>/delete/",
        console_views.endpoint_delete,
        name="endpoint_delete",
    ),
    path(
        "console/webhooks/deliveries/<id:delivery_id>/redeliver/",
        console_views.delivery_redeliver,
        name="delivery_redeliver",
    ),
]
