"""What ``import-zendesk`` and ``import-chatwoot`` share: arguments, progress bar, final report."""

from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from comptoir.moving_in.importer import Report, import_export
from comptoir.moving_in.records import Export
from comptoir.tenancy.models import Brand


class ImportCommand(BaseCommand):
    source = ""
    read_export: Callable[[Path], Export]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the export's directory")
        parser.add_argument("--brand", required=True, help="the brand's slug")

    def handle(self, *args, path: Path, brand: str, **options) -> None:
        found = Brand.objects.filter(slug=brand).first()
        if found is None:
            raise CommandError(f"no brand with the slug {brand!r}")
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        # soft_wrap: a skip's reason stays on its line whatever the terminal's width.
        console = Console(file=self.stdout, force_terminal=False, soft_wrap=True)
        export = type(self).read_export(path)
        with Progress(console=console, transient=True) as progress:
            bar = progress.add_task(f"{self.source}: conversations", total=len(export.threads))
            report = import_export(
                found, self.source, export, advance=lambda: progress.advance(bar)
            )
        print_report(console, self.source, report)


def print_report(console: Console, source: str, report: Report) -> None:
    table = Table(title=f"Import from {source}")
    table.add_column("")
    table.add_column("count", justify="right")
    for label, value in [
        ("customers created", report.customers_created),
        ("customers merged into existing ones", report.customers_matched),
        ("conversations imported", report.conversations_created),
        ("conversations given new messages", report.conversations_updated),
        ("messages imported", report.messages_created),
        ("conversations already imported", report.already_imported),
        ("skipped", len(report.skipped)),
    ]:
        table.add_row(label, str(value))
    console.print(table)
    for skip in report.skipped:
        console.print(f"skipped {skip.what}: {skip.reason}", markup=False, highlight=False)
    for email in sorted(report.unknown_agents):
        console.print(
            f"agent {email} has no account here: their messages have no author",
            markup=False,
            highlight=False,
        )
