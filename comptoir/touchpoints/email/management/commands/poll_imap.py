"""``comptoir poll_imap``: fetch the mail of every Mailbox that has an ``imap_url``.

``--once`` polls each mailbox once and exits (cron); otherwise each mailbox
gets a watcher thread that waits in IMAP IDLE when the server offers it and
``--idle`` is given, and polls every ``--interval`` seconds otherwise.
"""

import threading

from django.core.management.base import BaseCommand, CommandParser

from comptoir.touchpoints.email.imap import ImapUrlError, poll_mailbox, run_imap_watchers
from comptoir.touchpoints.email.models import Mailbox


class Command(BaseCommand):
    help = "Fetch unseen mail from the brands' IMAP mailboxes into conversations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument(
            "--interval", type=float, default=60, help="seconds between polls (default 60)"
        )
        parser.add_argument(
            "--idle", action="store_true", help="wait in IMAP IDLE where the server supports it"
        )

    def handle(self, *args, once: bool, interval: float, idle: bool, **options) -> None:
        if once:
            self._poll_once()
            return
        stop = threading.Event()
        self.stdout.write(
            f"Polling IMAP mailboxes ({'IDLE, else ' if idle else ''}every {interval:g} s); "
            "Ctrl-C to stop"
        )
        try:
            run_imap_watchers(stop, interval=interval, idle=idle)
        except KeyboardInterrupt:
            stop.set()

    def _poll_once(self) -> None:
        mailboxes = Mailbox.objects.exclude(imap_url="").select_related("brand").order_by("pk")
        for mailbox in mailboxes:
            try:
                report = poll_mailbox(mailbox)
            except ImapUrlError as error:
                self.stderr.write(f"{mailbox}: bad imap_url: {error}")
            except Exception as error:
                self.stderr.write(f"{mailbox}: {type(error).__name__}: {error}")
            else:
                self.stdout.write(f"{mailbox}: {report.describe()}")
