from django.apps import AppConfig


class GdprConfig(AppConfig):
    """A person's rights: export, erasure, tracked requests, retention, records of processing."""

    name = "comptoir.gdpr"
    label = "gdpr"
    default_auto_field = "django.db.models.BigAutoField"
