"""Reports URLs in the console (namespace ``reports``)."""

from django.urls import path

from comptoir.reports import views

app_name = "reports"

urlpatterns = [
    path("console/reports/", views.overview, name="overview"),
    path("console/reports/export.csv", views.export, name="export"),
]
