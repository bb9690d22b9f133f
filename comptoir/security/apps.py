from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Accounts' protections (lockout, second factor, sessions), rate limits, the audit log."""

    name = "comptoir.security"
    label = "security"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from comptoir.security import checks, signals  # noqa: F401 — registers checks, receivers
