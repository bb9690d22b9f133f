"""Appointments: the console desk, lobby and devices; the customer's signed page."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.appointments import console_views, customer_views, setup_views, widget_views

app_name = "appointments"

urlpatterns = [
    path("console/appointments/", console_views.desk, name="desk"),
    path("console/appointments/fragment/", console_views.desk_fragment, name="desk_fragment"),
    path("console/appointments/book/<id:customer_id>/", console_views.book, name="book"),
    path(
        "console/appointments/<id:appointment_id>/check-in/",
        console_views.check_in,
        name="check_in",
    ),
    path("console/appointments/<id:appointment_id>/call/", console_views.call, name="call"),
    path("console/appointments/<id:appointment_id>/serve/", console_views.serve, name="serve"),
    path(
        "console/appointments/<id:appointment_id>/no-show/", console_views.no_show, name="no_show"
    ),
    path("console/appointments/<id:appointment_id>/cancel/", console_views.cancel, name="cancel"),
    path("console/appointments/<id:appointment_id>/park/", console_views.park, name="park"),
    path("console/appointments/<id:appointment_id>/resume/", console_views.resume, name="resume"),
    path(
        "console/appointments/<id:appointment_id>/transfer/",
        console_views.transfer,
        name="transfer",
    ),
    path(
        "console/appointments/locations/<id:location_id>/call-next/",
        console_views.call_next,
        name="call_next",
    ),
    path(
        "console/appointments/locations/<id:location_id>/walk-in/",
        console_views.walk_in,
        name="walk_in",
    ),
    path(
        "console/appointments/locations/<id:location_id>/lobby/",
        console_views.lobby,
        name="lobby",
    ),
    # Settings → Appointments (administrators).
    path("console/appointments/setup/", setup_views.setup, name="setup"),
    path(
        "console/appointments/setup/locations/<id:location_id>/",
        setup_views.setup_location,
        name="setup_location",
    ),
    path(
        "console/appointments/setup/services/<id:service_id>/",
        setup_views.setup_service,
        name="setup_service",
    ),
    path(
        "console/appointments/setup/staff/<id:resource_id>/",
        setup_views.setup_staff,
        name="setup_staff",
    ),
    path("console/devices/", console_views.devices, name="devices"),
    path("console/devices/<id:device_id>/", console_views.device, name="device"),
    # The widget's slot picker (visitor token).
    path("widget/api/appointments/slots", widget_views.slots, name="widget_slots"),
    path("widget/api/appointments", widget_views.book, name="widget_book"),
    # The customer's page, by its signed link.
    path("appointments/<str:token>/", customer_views.manage, name="manage"),
    path("appointments/<str:token>/place/", customer_views.place, name="place"),
    path("appointments/<str:token>/qr.svg", customer_views.qr_code, name="qr"),
]
