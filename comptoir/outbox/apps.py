from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "comptoir.outbox"
    verbose_name = "Outbound deliveries"
