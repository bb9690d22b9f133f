"""The API app's timed work."""

from comptoir.api.idempotency import purge_expired_keys
from comptoir.tasks import periodic


@periodic(cron="23 * * * *")
def purge_idempotency_keys() -> None:
    """Forget idempotency keys older than 24 h (hourly: a key lives at most 25 h)."""
    purge_expired_keys()
