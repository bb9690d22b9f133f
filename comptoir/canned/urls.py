"""Canned replies' console URLs (namespace ``canned``)."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.canned import console_views

app_name = "canned"

urlpatterns = [
    path("console/replies/", console_views.reply_list, name="list"),
    path("console/replies/new/", console_views.reply_create, name="create"),
    path("console/replies/<id:reply_id>/", console_views.reply_edit, name="edit"),
    path("console/replies/<id:reply_id>/delete/", console_views.reply_delete, name="delete"),
    path(
        "console/c/<id:conversation_id>/replies/",
        console_views.conversation_replies,
        name="for_conversation",
    ),
]
