"""Widget URLs, mounted at the site root: the script and its API under ``/widget/api/``."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.widget import views

app_name = "widget"

urlpatterns = [
    path("widget.js", views.widget_script, name="script"),
    path("widget/api/session", views.session, name="session"),
    path("widget/api/messages", views.messages, name="messages"),
    path("widget/api/identify", views.identify, name="identify"),
    path(
        "widget/api/attachments/<id:attachment_id>/",
        views.attachment_file,
        name="attachment",
    ),
]
