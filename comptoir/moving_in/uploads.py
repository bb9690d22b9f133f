"""An export uploaded as a zip on the console: queued in the upload's transaction, run by a worker.

The zip is read entry by entry into a temporary directory: no entry may leave it
(absolute paths, ``..``), nor may the whole grow past ``MOVING_IN_MAX_BYTES`` once
unpacked (a zip bomb). Then the same reader and importer as the commands run;
the report is stored on the ``ImportRun`` the console shows, and the uploaded file
is deleted (it holds the brand's customers; the imported rows are the copy kept).
"""

import logging
import tempfile
import zipfile
from dataclasses import asdict
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from comptoir.moving_in import chatwoot, zendesk
from comptoir.moving_in.importer import import_export
from comptoir.moving_in.models import ImportRun, ImportStatus
from comptoir.tasks import task
from comptoir.tenancy.models import Membership

logger = logging.getLogger(__name__)

READERS = {zendesk.SOURCE: zendesk.read_export, chatwoot.SOURCE: chatwoot.read_export}


class BadArchive(ValueError):
    pass


def queue_import(membership: Membership, source: str, upload: UploadedFile) -> ImportRun:
    """Store the upload and queue its import (both or neither)."""
    with transaction.atomic():
        run = ImportRun.objects.create(
            brand_id=membership.brand_id, source=source, file=upload, uploaded_by=membership
        )
        run_import.enqueue(run_id=run.pk, lock=f"moving-in:{membership.brand_id}")
    logger.info("%s import %s queued by membership %s", source, run.pk, membership.pk)
    return run


def unpack(archive: zipfile.ZipFile, into: Path) -> Path:
    """Extract safely; the directory holding the export's files (the zip's one folder, if any)."""
    total = 0
    for entry in archive.infolist():
        name = PurePosixPath(entry.filename)
        if name.is_absolute() or ".." in name.parts:
            raise BadArchive(f"an entry leaves the archive: {entry.filename[:100]!r}")
        total += entry.file_size
        if total > settings.MOVING_IN_MAX_BYTES:
            raise BadArchive(f"more than {settings.MOVING_IN_MAX_BYTES} bytes once unpacked")
        if not entry.is_dir():
            target = into.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(entry) as source, target.open("wb") as copy:
                copy.write(source.read(settings.MOVING_IN_MAX_BYTES + 1))
    folders = [path for path in into.iterdir() if path.is_dir()]
    files = [path for path in into.iterdir() if path.is_file()]
    return folders[0] if len(folders) == 1 and not files else into


@task(queue="default")
def run_import(run_id: int) -> None:
    """Import an uploaded export (a task: safe twice, the importer is idempotent)."""
    run = ImportRun.objects.select_related("brand").filter(pk=run_id).first()
    if run is None or run.status != ImportStatus.QUEUED:
        return
    try:
        with tempfile.TemporaryDirectory() as folder, run.file.open("rb") as upload:
            try:
                archive = zipfile.ZipFile(upload)
            except zipfile.BadZipFile as error:
                raise BadArchive(f"not a zip file: {error}") from error
            with archive:
                export = READERS[run.source](unpack(archive, Path(folder)))
            report = import_export(run.brand, run.source, export)
    except BadArchive as error:
        run.status, run.report = ImportStatus.FAILED, {"error": str(error)}
    else:
        outcome = asdict(report)
        outcome["unknown_agents"] = sorted(report.unknown_agents)
        run.status, run.report = ImportStatus.DONE, outcome
    run.finished_at = timezone.now()
    # The export holds the brand's customers: once imported (or refused), it is not kept.
    run.file.delete(save=False)
    run.save(update_fields=["status", "report", "finished_at", "file"])
