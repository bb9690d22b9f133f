from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "comptoir.surveys"
    label = "surveys"
    verbose_name = "Surveys"
