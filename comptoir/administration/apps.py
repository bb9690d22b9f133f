from django.apps import AppConfig


class AdministrationConfig(AppConfig):
    name = "comptoir.administration"
    label = "administration"
