from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "comptoir.search"
    verbose_name = "Search"
