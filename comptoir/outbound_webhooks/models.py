"""Outbound webhooks: a brand's endpoints, and what each was sent of its events.

Not to be confused with the channels' inbound webhooks (``touchpoints``): these
are Comptoir calling an integrator's URL when something happens in a brand.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.events.models import Event
from comptoir.tenancy.models import Brand


class WebhookEndpoint(models.Model):
    """An integrator's URL and the event kinds it is sent, signed with its secret."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Event kind names (``events.kinds``) this endpoint is sent.
    kinds = models.JSONField(_("events"), default=list)
    # Signs every delivery (HMAC-SHA256). Shown once, when made or rotated.
    secret = models.CharField(max_length=100)
    # After a rotation the previous secret signs too, until ``previous_secret_until``.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    is_enabled = models.BooleanField(_("on"), default=True)
    # Set by the platform operator only (Django admin), for a receiver on a private network.
    allow_private_addresses = models.BooleanField(
        _("allow private addresses"),
        default=False,
        help_text=_("Only for a receiver on a private network (or a test)."),
    )
    # The first failure since the last success: switched off after WEBHOOKS_DISABLE_AFTER_DAYS.
    failing_since = models.DateTimeField(null=True, blank=True)
    # Set when Comptoir switched the endpoint off (an administrator switching it off leaves it
    # empty): what the console's notice says.
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # When the first waiting delivery is due after a failure (the periodic wake-up reads it).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["is_enabled", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return self.url

    @property
    def secret_hint(self) -> str:
        """What the console shows of the secret after it was shown once."""
        return f"{self.secret[:10]}…"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DELIVERED = "delivered", _("Delivered")


class WebhookDelivery(models.Model):
    """One event for one endpoint: sent one at a time per endpoint, in the order of event ids.

    ``uuid`` is the delivery's id in the ``Comptoir-Delivery`` header and the body:
    delivery is at least once, so receivers drop an id they already processed. A
    redelivery asked for by an administrator is a new row with a new id.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=40)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # The last attempt: when, how long it took, what the receiver answered.
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    redelivery_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["endpoint", "status", "event"], name="webhook_delivery_next"),
            models.Index(fields=["endpoint", "-id"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.event_id} → endpoint {self.endpoint_id}: {self.status}"
