from django.apps import AppConfig


class OutboundWebhooksConfig(AppConfig):
    name = "comptoir.outbound_webhooks"
    label = "outbound_webhooks"
    verbose_name = "Outbound webhooks"
