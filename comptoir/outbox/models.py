"""Deliveries: an agent's reply waiting to leave, or gone, on the customer's channel.

The job that sends a reply is queued in the reply's own transaction (the
message's event, ``outbox.listeners``), so a reply is never acknowledged to the
agent without being queued; that job creates the delivery, which tracks the
attempts, and a provider outage delays it without losing it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import Message
from comptoir.outbox.failures import agent_text
from comptoir.tenancy.models import Brand


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="deliveries")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="delivery")
    channel = models.CharField(max_length=16)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the next try is due (a job is queued for then).
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    # What agents are told about the last failure (``outbox.failures``; empty: a general text).
    failure_code = models.CharField(max_length=32, blank=True)
    # The provider's id for what was sent (Message-ID, WhatsApp wamid, …).
    provider_id = models.CharField(max_length=255, blank=True)
    # Parts of a long reply already accepted by the provider (messaging channels split
    # replies): a retry after a failed part resumes after them instead of resending them.
    parts_sent = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["channel", "provider_id"], name="delivery_provider_id"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} delivery of message #{self.message_id}: {self.status}"

    @property
    def failure_text(self) -> str:
        """The last failure in the agent's words and language (the console shows it)."""
        return agent_text(self.failure_code)
