from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "comptoir.realtime"
    verbose_name = "Real time"
