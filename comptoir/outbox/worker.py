"""The delivery worker loop, run by ``comptoir deliver`` or inside ``comptoir serve --worker``.

Each round also runs the assistant's jobs (``comptoir.assistant.jobs.run_due``).
"""

import logging
import threading

from django.db import close_old_connections

from comptoir.assistant.jobs import run_due as run_assistant_round
from comptoir.outbox.actions import deliver_due

logger = logging.getLogger(__name__)


def run_worker(stop: threading.Event, poll_seconds: float = 1.0) -> None:
    """Deliver what is due until ``stop`` is set; never dies on one bad round."""
    while not stop.is_set():
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


def start_worker_thread(poll_seconds: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker, args=(stop, poll_seconds), name="comptoir-deliveries", daemon=True
    )
    thread.start()
    return thread, stop
