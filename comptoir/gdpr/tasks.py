"""Nightly: the brands' retention periods (``gdpr.retention``)."""

from comptoir.gdpr.retention import apply_retention
from comptoir.tasks import periodic


@periodic(cron="17 2 * * *")
def erase_past_retention() -> None:
    """Erase customers idle for longer than their brand's ``retention_months``."""
    apply_retention()
