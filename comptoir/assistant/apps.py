from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "comptoir.assistant"
    label = "assistant"
    verbose_name = "Assistant"
