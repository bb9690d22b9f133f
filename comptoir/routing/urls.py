"""Routing's console pages, mounted under ``/console/routing/`` (namespace ``routing``)."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.routing import console_views

app_name = "routing"

urlpatterns = [
    path("console/routing/", console_views.overview, name="console"),
    path("console/routing/skills/", console_views.skill_add, name="skill_add"),
    path("console/routing/agents/<id:membership_id>/", console_views.agent_edit, name="agent"),
]
