"""Search in the console (namespace ``search``); ``GET /api/search`` is in ``search.api``."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.search import console_views

app_name = "search"

urlpatterns = [
    path("console/search/", console_views.search, name="console"),
    path("console/search/views/", console_views.view_create, name="view_create"),
    path(
        "console/search/views/<id:saved_view_id>/delete/",
        console_views.view_delete,
        name="view_delete",
    ),
]
