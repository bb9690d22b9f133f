"""The console's import page (administrators of the brand)."""

from django.urls import path

from comptoir.moving_in import console_views

app_name = "moving_in"

urlpatterns = [path("console/imports/", console_views.imports, name="imports")]
