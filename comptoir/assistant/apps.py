from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "comptoir.assistant"
    label = "assistant"
    verbose_name = "Assistant"

    def ready(self) -> None:
        # Intents changing marks the brand's model for retraining; settings
        # changing refreshes this process's "which brands are enabled" cache.
        # Each stored customer message may become a job.
        from comptoir.assistant import ingest_hook, signals  # noqa: F401
