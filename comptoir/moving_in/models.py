"""What an import brought in, by its id in the source: what makes a second run import nothing."""

from django.db import models

from comptoir.tenancy.models import Brand


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
