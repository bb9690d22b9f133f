"""The security app's timed work."""

from comptoir.security.audit import purge_audit_log
from comptoir.tasks import periodic


@periodic(cron="41 3 * * *")
def purge_old_audit_entries() -> None:
    """Remove audit entries older than ``AUDIT_RETENTION_DAYS`` (nightly)."""
    purge_audit_log()
