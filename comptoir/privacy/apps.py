from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "comptoir.privacy"
    verbose_name = "Privacy"
