from django.apps import AppConfig


class EmailConfig(AppConfig):
    name = "comptoir.touchpoints.email"
    label = "email"
    verbose_name = "E-mail"
