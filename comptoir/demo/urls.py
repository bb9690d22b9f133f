"""Demo URLs: the shop page that embeds the widget, and the site root that leads to it."""

from django.urls import path

from comptoir.demo import views

app_name = "demo"

urlpatterns = [
    path("", views.home, name="home"),
    path("demo/", views.shop, name="shop"),
]
