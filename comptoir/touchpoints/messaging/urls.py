"""Messaging webhooks (namespace ``messaging``): public URLs, every POST signed by Meta."""

from django.urls import path

from comptoir.touchpoints.messaging import views

app_name = "messaging"

urlpatterns = [
    path("webhooks/whatsapp/<slug:brand_slug>", views.whatsapp_webhook, name="whatsapp_webhook"),
    path("webhooks/messenger/<slug:brand_slug>", views.messenger_webhook, name="messenger_webhook"),
]
