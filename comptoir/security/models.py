"""The audit log: who did what to whose data, from where. Append-only.

One row per sensitive act: a login (or a failed one, or a lockout), a second factor
set up or a recovery code used, a customer's file viewed, exported, merged, erased,
a role or a setting changed. Rows are never updated nor deleted one by one:
``save`` refuses an existing row, ``delete`` refuses always, and on PostgreSQL a
trigger refuses UPDATE and DELETE whatever the client (migration 0002); only the
retention purge (``audit.purge_audit_log``) removes rows older than
``AUDIT_RETENTION_DAYS``, by disabling nothing but calling the one function allowed to.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comptoir.tenancy.models import Brand


class AuditAction(models.TextChoices):
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOCKED_OUT = "locked_out", _("Locked out")
    LOGOUT = "logout", _("Signed out")
    SESSION_EXPIRED = "session_expired", _("Session expired")
    TWO_FACTOR_ENABLED = "two_factor_enabled", _("Second factor set up")
    TWO_FACTOR_FAILED = "two_factor_failed", _("Wrong second-factor code")
    RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")
    CUSTOMER_VIEWED = "customer_viewed", _("Customer file viewed")
    CONVERSATION_VIEWED = "conversation_viewed", _("Conversation viewed")
    CUSTOMER_EXPORTED = "customer_exported", _("Customer data exported")
    CUSTOMER_MERGED = "customer_merged", _("Customers merged")
    CUSTOMER_UNMERGED = "customer_unmerged", _("Merge undone")
    CUSTOMER_ERASED = "customer_erased", _("Customer erased")
    ROLE_CHANGED = "role_changed", _("Role changed")
    SETTINGS_CHANGED = "settings_changed", _("Settings changed")
    AUDIT_EXPORTED = "audit_exported", _("Audit log exported")
    PORTAL_SIGNED_IN = "portal_signed_in", _("Customer signed in to the portal")
    PORTAL_LINKED = "portal_linked", _("Customer linked a portal profile")
    PORTAL_UNLINKED = "portal_unlinked", _("Customer unlinked a portal profile")
    DATA_REQUEST_OPENED = "data_request_opened", _("Data request received")
    DATA_REQUEST_CLOSED = "data_request_closed", _("Data request closed")
    CONSENT_RECORDED = "consent_recorded", _("Consent recorded")
    RETENTION_ERASED = "retention_erased", _("Erased by the retention period")


class AppendOnly(Exception):
    """An audit entry may not be changed or deleted."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("audit entries are never changed")

    def delete(self):
        raise AppendOnly("audit entries are removed only by the retention purge")


class AuditEntry(models.Model):
    brand = models.ForeignKey(
        Brand, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Kept as text too: the row must still say who once the account is gone.
    username = models.CharField(max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ("-at", "-id")
        indexes = [models.Index(fields=["brand", "-at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.username}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise AppendOnly("audit entries are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit entries are removed only by the retention purge")
