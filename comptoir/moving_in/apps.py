from django.apps import AppConfig


class MovingInConfig(AppConfig):
    name = "comptoir.moving_in"
    label = "moving_in"
    verbose_name = "Moving in (imports from other help desks)"
