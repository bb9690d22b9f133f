from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "comptoir.portal"
    label = "portal"
    verbose_name = "Customer portal"
