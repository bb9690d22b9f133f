from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "comptoir.customers"
    verbose_name = "Customers"
