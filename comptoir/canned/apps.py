from django.apps import AppConfig


class CannedConfig(AppConfig):
    name = "comptoir.canned"
    label = "canned"
