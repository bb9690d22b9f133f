"""The customer portal's own records: accounts, their links to brands, sign-in codes, sessions.

A portal account is a person, instance-wide. It sees a brand's customer file only
through a live ``PortalLink``: an identity (kind + normalised value) of that brand the
person proved with a code. The customer behind a link is looked up on every request
(``portal.access``), so a merge, an agent's removal of the identity or an erasure
takes effect at once.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.customers.models import IdentityKind
from comptoir.tenancy.models import Brand


class PortalAccount(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"portal account #{self.pk}"


class PortalLink(models.Model):
    """One brand's customer file shown in an account, through an identity proved by code.

    ``consented_at``: when the person ticked the box naming the brand (their first
    brand's link is the sign-in itself). Unlinking sets ``ended_at``; the row stays
    so the person can see what was linked and when.
    """

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="links")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    value = models.CharField(max_length=320)
    consented_at = models.DateTimeField()
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One live link per identity: signing in with it finds one account.
            models.UniqueConstraint(
                fields=["brand", "kind", "value"],
                condition=models.Q(ended_at__isnull=True),
                name="portal_link_live_identity_unique",
            )
        ]
        indexes = [models.Index(fields=["account", "ended_at"], name="portal_link_account")]

    def __str__(self) -> str:
        return f"{self.account_id} → {self.brand_id} ({self.kind})"


class CodePurpose(models.TextChoices):
    SIGN_IN = "sign_in", _("Sign in")
    LINK = "link", _("Link a brand")


class SignInCode(models.Model):
    """A one-time code (and link) sent to an address: hashed, short-lived, few attempts."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=10, choices=CodePurpose.choices)
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    value = models.CharField(max_length=320)
    # The account asking to link a brand (purpose "link").
    account = models.ForeignKey(
        PortalAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The browser's half: a random key in a signed cookie, so a code only works
    # where it was asked for (the mailed link carries its own secret instead).
    code_hash = models.CharField(max_length=64)
    link_hash = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=8, default="fr")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="portal_code_expires")]

    def __str__(self) -> str:
        return f"code #{self.pk} ({self.purpose})"


class PortalSession(models.Model):
    """A signed-in browser: the cookie holds a random key, only its hash is stored."""

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="sessions")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"portal session #{self.pk}"
