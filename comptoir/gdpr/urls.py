"""Data subjects' rights in the console (namespace ``gdpr``)."""

from django.urls import path

from comptoir import url_ids  # noqa: F401 — registers <id:…>
from comptoir.gdpr import views

app_name = "gdpr"

urlpatterns = [
    path("console/customers/<id:customer_id>/export.json", views.export, name="export"),
    path("console/customers/<id:customer_id>/erase/", views.erase, name="erase"),
]
