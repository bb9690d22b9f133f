"""A brand's mailboxes: the addresses customers write to and replies come from."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.tenancy.models import Brand


class Mailbox(models.Model):
    """One support address of a brand (``support@…``): mail to it opens conversations."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="mailboxes")
    address = models.EmailField(
        unique=True, help_text=_("Lower-case; mail to it reaches the brand")
    )
    sender_name = models.CharField(max_length=120, blank=True)
    acknowledge = models.BooleanField(
        default=True, help_text=_("Send an automatic acknowledgement to new conversations")
    )
    response_time_hours = models.PositiveSmallIntegerField(
        default=24, help_text=_("The response time the acknowledgement promises")
    )
    reopen_window_days = models.PositiveSmallIntegerField(
        default=7,
        help_text=_("A reply to a conversation resolved less long ago reopens it"),
    )
    # Mail polled from a provider's mailbox: imaps://user:password@host:993/INBOX (blank: none).
    imap_url = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return self.address
