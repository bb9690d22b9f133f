from django.apps import AppConfig


class WidgetConfig(AppConfig):
    name = "comptoir.widget"
