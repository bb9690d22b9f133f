"""Assistant URLs: agent assist and administration in the console, the demo's order system."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.assistant import console_views, views

app_name = "assistant"

urlpatterns = [
    path("console/c/<id:conversation_id>/assist/", views.assist, name="assist"),
    # Brand administrators configure the assistant (settings, intents, articles).
    path("console/assistant/", console_views.overview, name="console"),
    # Supervisors read its results.
    path("console/assistant/results/", console_views.results, name="results"),
    path("console/assistant/settings/", console_views.settings_save, name="settings_save"),
    path("console/assistant/intents/new/", console_views.intent_create, name="intent_create"),
    path(
        "console/assistant/intents/<id:intent_id>/", console_views.intent_edit, name="intent_edit"
    ),
    path(
        "console/assistant/intents/<id:intent_id>/delete/",
        console_views.intent_delete,
        name="intent_delete",
    ),
    path("console/assistant/articles/new/", console_views.article_create, name="article_create"),
    path(
        "console/assistant/articles/<id:article_id>/",
        console_views.article_edit,
        name="article_edit",
    ),
    path(
        "console/assistant/articles/<id:article_id>/delete/",
        console_views.article_delete,
        name="article_delete",
    ),
    path("demo/api/orders/<str:number>", views.demo_order, name="demo_order"),
]
