"""What the API keeps between requests: the results of writes sent with an ``Idempotency-Key``."""

from django.db import models
from django.utils import timezone

from comptoir.tenancy.models import Brand, Membership


class IdempotencyKey(models.Model):
    """The first answer to a write sent with a key, replayed to the same key's retries.

    Written in the transaction of the write itself (``comptoir.api.idempotency``): a
    row exists exactly when the write was done. Purged after ``KEY_LIFETIME`` (24 h)
    by ``comptoir.api.tasks.purge_idempotency_keys``.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    # The API token's agent: two agents (or two brands) never share keys.
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and (canonical JSON) body: the same key for another request is a 422.
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "membership", "key"], name="api_idempotency_key_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
