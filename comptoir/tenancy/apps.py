from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "comptoir.tenancy"
    verbose_name = "Brands and agents"
