"""The event log: what happened in a brand, who did it, in the order clients replay it."""

from django.db import models

from comptoir.events.actors import ActorKind


class Event(models.Model):
    """Append-only log of what happened in a brand; clients resume from the last id they saw.

    Written by ``comptoir.events.append_event`` only (raw SQL on the ingest hot path).
    """

    id = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey("tenancy.Brand", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
    )
    # Who did it: an agent (``actor``), or the customer, the assistant or Comptoir itself.
    actor_kind = models.CharField(
        max_length=10, choices=ActorKind.choices, default=ActorKind.SYSTEM
    )
    actor = models.ForeignKey(
        "tenancy.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField(default=dict)
    # What the customer may see of this event (None: nothing). Agents see ``payload``.
    customer_payload = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The table kept its name when the model moved here from ``conversations``.
        db_table = "conversations_event"
        indexes = [
            models.Index(fields=["brand", "id"], name="event_brand_id"),
            models.Index(fields=["customer", "id"], name="event_customer_id"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
