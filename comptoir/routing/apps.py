from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "comptoir.routing"
    verbose_name = "Routing"
