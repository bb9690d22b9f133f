"""Canned replies: texts an agent inserts in the reply box with ``/`` and a shortcut."""

from django.db import models
from django.db.models import Q

from comptoir.tenancy.models import Brand, Membership


class CannedReply(models.Model):
    """A brand's shared reply (``owner`` empty) or one agent's own.

    ``body`` may hold placeholders (``canned.placeholders``) filled from the
    conversation when the reply is inserted.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="canned_replies")
    owner = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
    )
    shortcut = models.SlugField(max_length=40, allow_unicode=True)
    title = models.CharField(max_length=120)
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "shortcut"],
                condition=Q(owner__isnull=True),
                name="canned_shared_shortcut_unique",
            ),
            models.UniqueConstraint(
                fields=["owner", "shortcut"], name="canned_personal_shortcut_unique"
            ),
        ]
        indexes = [models.Index(fields=["brand", "shortcut"], name="canned_brand_shortcut")]

    def __str__(self) -> str:
        return f"/{self.shortcut}"

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None
