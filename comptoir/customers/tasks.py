"""The customers app's timed work."""

from datetime import datetime

from croniter import croniter
from django.conf import settings
from django.utils import timezone

from comptoir.customers.duplicates import propose_for_recent_identities
from comptoir.tasks import periodic


@periodic(cron=settings.DUPLICATE_SCAN_CRON)
def propose_recent_duplicates() -> None:
    """Propose duplicates among customers who gained an identity since the run before last.

    Customers created or completed by incoming messages are checked within
    minutes without ingest ever waiting for it. Looking back two periods lets a
    late or missed run be covered by the next; proposing twice is harmless.
    """
    schedule = croniter(settings.DUPLICATE_SCAN_CRON, timezone.now())
    schedule.get_prev(datetime)
    propose_for_recent_identities(since=schedule.get_prev(datetime))
