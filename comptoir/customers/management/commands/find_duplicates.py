"""``comptoir find_duplicates``: propose likely duplicate customers to agents.

Ingest never waits for duplicate detection, so customers created by messages
are checked here: run it periodically (cron, a systemd timer, or ``--every``).
Nothing is merged: proposals wait for a supervisor in the console.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from comptoir.customers.duplicates import propose_duplicates
from comptoir.tenancy.models import Brand


class Command(BaseCommand):
    help = "Propose likely duplicate customers (never merges)."

    def add_arguments(self, parser):
        parser.add_argument("--brand", help="Brand slug (default: every brand).")
        parser.add_argument(
            "--every", type=int, default=0, help="Run again every N seconds (0: run once)."
        )

    def handle(self, *args, brand: str | None, every: int, **options):
        brands = Brand.objects.order_by("pk")
        if brand:
            brands = brands.filter(slug=brand)
            if not brands.exists():
                raise CommandError(f"no brand with slug {brand!r}")
        while True:
            for current in brands:
                started = time.monotonic()
                created = propose_duplicates(current)
                self.stdout.write(
                    f"{current.slug}: {len(created)} new proposal(s) "
                    f"in {time.monotonic() - started:.2f}s"
                )
            if every <= 0:
                return
            time.sleep(every)
