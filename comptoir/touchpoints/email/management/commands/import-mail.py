"""``comptoir import-mail PATH…``: replay mail from files through the SMTP listener's path.

Accepts ``.eml`` files, directories of them (searched recursively), mbox files
and Maildirs. One line per message on stdout (``ingested <key> conversation
#12``, ``duplicate …``, ``quarantined … (reason)``, ``ignored …``, ``bounce …``),
a progress bar on stderr. Exits non-zero only when it cannot run at all (unknown
brand, missing path); a bad message is quarantined and the import goes on.
"""

import mailbox
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from comptoir.tenancy.models import Brand
from comptoir.touchpoints.email.models import MailSource
from comptoir.touchpoints.email.receiving import receive_mail

DEFAULT_BRAND = "maison-demo"


def is_maildir(path: Path) -> bool:
    return path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def is_mbox(path: Path) -> bool:
    """An mbox starts with a ``From `` separator line; an .eml never does."""
    with path.open("rb") as handle:
        return handle.read(5) == b"From "


def count_messages(path: Path) -> int:
    if is_maildir(path):
        return len(mailbox.Maildir(path, create=False))
    if path.is_dir():
        return sum(1 for _ in sorted(path.rglob("*.eml")))
    if is_mbox(path):
        return len(mailbox.mbox(path, create=False))
    return 1


def iter_messages(path: Path) -> Iterator[tuple[str, bytes]]:
    """``(key shown to the user, raw bytes)`` of every message under ``path``."""
    if is_maildir(path):
        box = mailbox.Maildir(path, create=False)
        for key in sorted(box.keys()):
            yield f"{path}/{key}", box.get_bytes(key)
    elif path.is_dir():
        for file in sorted(path.rglob("*.eml")):
            if is_maildir(file.parent.parent) and file.parent.name in ("cur", "new", "tmp"):
                continue
            yield str(file), file.read_bytes()
    elif is_mbox(path):
        box = mailbox.mbox(path, create=False)
        for index, key in enumerate(box.keys()):
            yield f"{path}:{index + 1}", box.get_bytes(key)
    else:
        yield str(path), path.read_bytes()


class Command(BaseCommand):
    help = "Import .eml files, directories of them, mbox files and Maildirs into a brand."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument(
            "--brand", default=DEFAULT_BRAND, help=f"brand slug (default: {DEFAULT_BRAND})"
        )

    def handle(self, *args, paths: list[str], brand: str, **options) -> None:
        try:
            target = Brand.objects.get(slug=brand)
        except Brand.DoesNotExist:
            raise CommandError(f"unknown brand {brand!r}") from None
        sources = [Path(p) for p in paths]
        missing = [str(p) for p in sources if not p.exists()]
        if missing:
            raise CommandError(f"not found: {', '.join(missing)}")

        total = sum(count_messages(p) for p in sources)
        counts: dict[str, int] = {}
        progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        with progress:
            task = progress.add_task("Importing mail", total=total)
            for source in sources:
                for key, raw in iter_messages(source):
                    outcome = receive_mail(
                        raw, recipients=None, brand=target, source=MailSource.IMPORT
                    )
                    kind = outcome.kind.value
                    counts[kind] = counts.get(kind, 0) + 1
                    self.stdout.write(f"{kind} {key} {outcome.describe()}")
                    progress.advance(task)
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no message"
        self.stderr.write(f"Imported into {target.slug}: {summary}")
