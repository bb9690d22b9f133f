"""SLA administration URLs in the console (administrators of the brand)."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.sla import console_views

app_name = "sla"

urlpatterns = [
    path("console/sla/", console_views.overview, name="overview"),
    path("console/sla/calendars/new/", console_views.calendar_create, name="calendar_create"),
    path(
        "console/sla/calendars/<id:calendar_id>/",
        console_views.calendar_edit,
        name="calendar_edit",
    ),
    path(
        "console/sla/calendars/<id:calendar_id>/holidays/",
        console_views.holiday_add,
        name="holiday_add",
    ),
    path(
        "console/sla/calendars/<id:calendar_id>/ical/",
        console_views.calendar_import,
        name="calendar_import",
    ),
    path(
        "console/sla/holidays/<id:holiday_id>/delete/",
        console_views.holiday_delete,
        name="holiday_delete",
    ),
    path("console/sla/policies/new/", console_views.policy_create, name="policy_create"),
    path("console/sla/policies/<id:policy_id>/", console_views.policy_edit, name="policy_edit"),
    path(
        "console/sla/policies/<id:policy_id>/delete/",
        console_views.policy_delete,
        name="policy_delete",
    ),
]
