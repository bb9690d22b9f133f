"""Customers and the identities by which every channel recognises them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.tenancy.models import Brand


class Customer(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="customers")
    display_name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=8, blank=True)
    is_vip = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.display_name or f"#{self.pk}"

    @property
    def label(self) -> str:
        """What agents see when the customer has not told us a name."""
        return self.display_name or _("Visitor #%(id)s") % {"id": self.pk}


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    CHAT_VISITOR = "chat_visitor", _("Chat visitor")
    CUSTOMER_NUMBER = "customer_number", _("Customer number")
    WHATSAPP = "whatsapp", _("WhatsApp")
    MESSENGER = "messenger", _("Messenger")


class Identity(models.Model):
    """One normalised claim (kind + value) that points at one customer of a brand."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="identities")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    value = models.CharField(max_length=320)
    verified = models.BooleanField(default=False)
    # Set when the channel reports the address unreachable (a mail bounce, …).
    failing_since = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "kind", "value"], name="identity_brand_kind_value_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"
