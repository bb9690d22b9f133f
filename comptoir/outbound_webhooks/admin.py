from django.contrib import admin

from comptoir.outbound_webhooks.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Where the platform operator allows a receiver on a private network."""

    list_display = ("url", "brand", "is_enabled", "allow_private_addresses", "failing_since")
    list_filter = ("is_enabled", "allow_private_addresses", "brand")
    exclude = ("secret", "previous_secret")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("uuid", "endpoint", "kind", "status", "attempts", "response_status")
    list_filter = ("status", "kind")
    raw_id_fields = ("endpoint", "event", "redelivery_of")
