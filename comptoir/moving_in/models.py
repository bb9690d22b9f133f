"""What an import brought in, by its id in the source: what makes a second run import nothing."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.tenancy.models import Brand, Membership


class ImportedRecord(models.Model):
    """A person or a conversation of another help desk, and the row it became here.

    Written in the same transaction as that row: an import interrupted between
    two conversations resumes after the last one stored.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=20)  # zendesk, chatwoot
    kind = models.CharField(max_length=20)  # person, conversation
    external_id = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "source", "kind", "external_id"], name="imported_record_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.external_id} → {self.object_id}"


def upload_path(instance: "ImportRun", filename: str) -> str:
    # The stored name never contains what the uploader chose.
    return f"imports/{instance.brand_id}/{uuid.uuid4().hex}.zip"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportRun(models.Model):
    """An export uploaded on the console (a zip), imported by a worker, with its report."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=20)
    file = models.FileField(upload_to=upload_path, max_length=200)
    uploaded_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    # The importer's report (counts, skipped rows with reasons), or why the file was refused.
    report = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.source} import #{self.pk}: {self.status}"
