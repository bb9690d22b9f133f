"""``comptoir deliver``: send queued replies (e-mail, messaging) with retries and backoff."""

import threading

from django.core.management.base import BaseCommand

from comptoir.outbox.actions import deliver_due
from comptoir.outbox.worker import run_worker


class Command(BaseCommand):
    help = "Send outbound deliveries that are due, then keep polling (or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between rounds")

    def handle(self, *args, once: bool, poll: float, **options):
        if once:
            self.stdout.write(f"{deliver_due()} deliveries tried")
            return
        stop = threading.Event()
        try:
            run_worker(stop, poll)
        except KeyboardInterrupt:
            stop.set()
