from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "comptoir.sla"
    label = "sla"
    verbose_name = "SLAs"
