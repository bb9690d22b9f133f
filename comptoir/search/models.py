"""Saved views: an agent's named search (text, filters, sort), private to that agent.

The search indexes themselves are not models: they are database objects
(PostgreSQL GIN indexes, SQLite FTS5 tables and triggers) created by this
app's migrations from ``search.ddl``.
"""

from django.db import models

from comptoir.tenancy.models import Brand, Membership


class SavedView(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    # The agent who saved it: nobody else sees it, not even an administrator.
    owner = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=60)
    # The search's parameters as the query string carries them (``q``, ``status``, ``team``…),
    # validated by ``search.params.SearchParams`` when saved and again when applied.
    filters = models.JSONField(default=dict)
    sort = models.CharField(max_length=10, default="newest")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_view_owner_name_unique")
        ]

    def __str__(self) -> str:
        return self.name
