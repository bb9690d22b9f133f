from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "comptoir.conversations"
    verbose_name = "Conversations"
