"""A brand's mailboxes: the addresses customers write to and replies come from."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.security.fields import EncryptedTextField
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
    imap_url = EncryptedTextField(blank=True)
    # Replies leave through this server: smtp[s]://user:password@host:port (blank: EMAIL_URL).
    smtp_url = EncryptedTextField(blank=True)

    class Meta:
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return self.address

    def save(self, *args, **kwargs) -> None:
        # Routing compares lower-case addresses (the domain is case-insensitive and
        # nobody runs case-sensitive local parts for a support address).
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)


class MailSource(models.TextChoices):
    SMTP = "smtp", _("SMTP listener")
    HTTP = "http", _("HTTP endpoint")
    IMPORT = "import", _("Import")
    IMAP = "imap", _("IMAP polling")


class QuarantinedMail(models.Model):
    """A mail that could not be read or stored, kept raw so that it is never lost.

    Administrators of the brand see it in the console with the reason, can
    download it and retry it once the cause is fixed. ``brand`` is empty when
    not even the recipient could be read (then only platform operators see it,
    in the Django admin).
    """

    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, null=True, blank=True, related_name="quarantined_mails"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=10, choices=MailSource.choices)
    # In the database rather than on disk: stored in the same transaction as the
    # reason, and backed up with everything else.
    raw = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=500)
    envelope_sender = models.CharField(max_length=320, blank=True)
    envelope_recipients = models.JSONField(default=list, blank=True)
    # Best-effort header values for the list page (the raw mail is the truth).
    header_from = models.CharField(max_length=320, blank=True)
    header_subject = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    resolved = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "quarantined mails"
        indexes = [
            models.Index(fields=["brand", "resolved", "received_at"], name="quarantine_brand_open")
        ]

    def __str__(self) -> str:
        return f"quarantined mail #{self.pk} ({self.reason})"
