from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "comptoir.tasks"
    verbose_name = "Background tasks"
