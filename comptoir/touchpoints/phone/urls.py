"""Phone URLs, mounted at the site root (namespace ``phone``): webhooks, console pages, widget."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.touchpoints.phone import console_views, webhooks, widget_views

app_name = "phone"

urlpatterns = [
    path("webhooks/phone/<slug:brand_slug>/events", webhooks.generic_events, name="generic_events"),
    path("webhooks/twilio/<slug:brand_slug>/voice", webhooks.twilio_voice, name="twilio_voice"),
    path(
        "console/customers/<id:customer_id>/call/",
        console_views.call_customer,
        name="call_customer",
    ),
    path("console/callbacks/", console_views.callback_queue, name="callbacks"),
    path(
        "console/callbacks/<id:callback_id>/call/",
        console_views.callback_call,
        name="callback_call",
    ),
    path(
        "console/callbacks/<id:callback_id>/done/",
        console_views.callback_done,
        name="callback_done",
    ),
    path(
        "console/callbacks/<id:callback_id>/cancel/",
        console_views.callback_cancel,
        name="callback_cancel",
    ),
    path("widget/api/callbacks", widget_views.request_callback_view, name="widget_callback"),
]
