"""The delivery worker loop, run by ``comptoir deliver`` or inside ``comptoir serve --worker``.

Each round also runs the assistant's jobs (``comptoir.assistant.jobs.run_due``), and
every ``DUPLICATE_SCAN_SECONDS`` it proposes duplicates among customers who gained an
identity meanwhile (``comptoir find_duplicates`` does the same on demand).
"""

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from comptoir.assistant.jobs import run_due as run_assistant_round
from comptoir.customers.duplicates import propose_for_recent_identities
from comptoir.outbox.actions import deliver_due

logger = logging.getLogger(__name__)

DUPLICATE_SCAN_INTERVAL = timedelta(seconds=settings.DUPLICATE_SCAN_SECONDS)


def run_worker(stop: threading.Event, poll_seconds: float = 1.0) -> None:
    """Deliver what is due until ``stop`` is set; never dies on one bad round."""
    duplicates_checked_at = timezone.now()
    while not stop.is_set():
        if timezone.now() - duplicates_checked_at >= DUPLICATE_SCAN_INTERVAL:
            duplicates_checked_at = _propose_duplicates_since(duplicates_checked_at)
        tried = 0
        try:
            close_old_connections()
            tried = deliver_due()
        except Exception:
            logger.exception("delivery round failed; trying again shortly")
        # The assistant's round (retrain changed intents, answer new customer messages);
        # its replies are queued deliveries, sent by the next round.
        try:
            tried += run_assistant_round()
        except Exception:
            logger.exception("assistant round failed; trying again shortly")
        if not tried:
            stop.wait(poll_seconds)


def _propose_duplicates_since(since: datetime) -> datetime:
    """Propose duplicates among customers who gained identities since ``since``."""
    started = timezone.now()
    try:
        propose_for_recent_identities(since)
    except Exception:
        logger.exception("duplicate detection round failed; trying again later")
        return since
    return started


def start_worker_thread(poll_seconds: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker, args=(stop, poll_seconds), name="comptoir-deliveries", daemon=True
    )
    thread.start()
    return thread, stop
