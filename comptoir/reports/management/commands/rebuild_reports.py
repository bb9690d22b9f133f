"""``comptoir rebuild_reports [--brand SLUG]``: derive every conversation's figures from the log,
then the per-day roll-ups from them."""

from django.core.management.base import BaseCommand

from comptoir.reports import rollups
from comptoir.reports.facts import rebuild
from comptoir.tenancy.models import Brand


class Command(BaseCommand):
    help = "Rebuild the reports' per-conversation figures from the event log, and the day roll-ups."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--brand", help="Only this brand (its slug).")

    def handle(self, *args, brand: str | None = None, **options) -> None:
        brands = Brand.objects.filter(slug=brand) if brand else Brand.objects.all()
        for each in brands.order_by("pk"):
            count = rebuild(each.pk)
            days = rollups.rebuild(each.pk)
            self.stdout.write(f"{each.slug}: {count} conversations, {days} day rows")
