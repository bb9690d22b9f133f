"""Brands (tenants) and the agents who work for them."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Brand(models.Model):
    """A tenant: every customer, conversation and event belongs to exactly one brand."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    default_language = models.CharField(max_length=8, default="fr")
    # Where national phone numbers are read from (ISO 3166 alpha-2): "06 12 34 56 78" in FR.
    default_region = models.CharField(max_length=2, default="FR")
    # The languages the brand answers in (codes of settings.LANGUAGES, comma-separated).
    languages = models.CharField(max_length=60, default="fr,en")
    # Where the brand's own clock runs: dates shown to its customers, its reports.
    time_zone = models.CharField(max_length=64, default="Europe/Paris")
    # The widget's accent colour (#rrggbb) and the words it greets visitors with; a blank
    # text keeps Comptoir's own, translated (``widget.texts``).
    widget_color = models.CharField(max_length=7, default="#1f3a5f")
    widget_greeting_fr = models.CharField(max_length=300, blank=True)
    widget_greeting_en = models.CharField(max_length=300, blank=True)
    widget_subtitle_fr = models.CharField(max_length=120, blank=True)
    widget_subtitle_en = models.CharField(max_length=120, blank=True)
    # Customers without any activity for this many months are erased by
    # ``gdpr.tasks.apply_retention`` (anonymous figures stay); 0 keeps them.
    retention_months = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def language_list(self) -> list[str]:
        return [code.strip() for code in self.languages.split(",") if code.strip()]

    def customer_text(self, name: str, language: str) -> str:
        """The brand's own ``widget_<name>`` in ``language`` (fr or en), or "" for the default."""
        suffix = "fr" if language.startswith("fr") else "en"
        return getattr(self, f"widget_{name}_{suffix}", "")


# A console pings every 25 s: missing three pings means the console was closed.
ONLINE_WITHIN = timedelta(seconds=90)


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")


# Each role may do everything the roles before it may.
ROLE_ORDER: tuple[str, ...] = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)


class Availability(models.TextChoices):
    """What the agent says of themselves, whether or not their console is open.

    Only *available* agents get new work. *Busy*: keeps working on what they
    hold, gets nothing new; *away*: lunch, meeting, or set by Comptoir after a
    while without activity (``routing.tasks``); *offline*: signed off. What a
    supervisor sees (``routing.presence.presence_of``) also says *offline* for a
    console closed, and *busy* for an agent at full capacity.
    """

    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class Membership(models.Model):
    """An agent seat: one user working for one brand with one role."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Last sign of life of the agent's open console (its socket pings every 25 s).
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # "Away" (lunch, meeting) with the console still open: routing passes them over.
    availability = models.CharField(
        max_length=16, choices=Availability.choices, default=Availability.AVAILABLE
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "brand"], name="membership_user_brand_unique")
        ]

    def __str__(self) -> str:
        return f"{self.display_name} @ {self.brand}"

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    def has_role(self, role: str) -> bool:
        """At least ``role`` (an administrator is also a supervisor and an agent).

        A role unknown to this version (a row written by a newer one) counts as
        below every role, so that it is refused rather than let through.
        """
        if self.role not in ROLE_ORDER:
            return False
        return ROLE_ORDER.index(self.role) >= ROLE_ORDER.index(role)

    @property
    def is_supervisor(self) -> bool:
        return self.has_role(Role.SUPERVISOR)

    @property
    def is_administrator(self) -> bool:
        return self.has_role(Role.ADMIN)

    def is_online(self, now: datetime | None = None) -> bool:
        """The agent has a console open (seen within ``ONLINE_WITHIN``)."""
        if self.last_seen_at is None:
            return False
        return (now or timezone.now()) - self.last_seen_at < ONLINE_WITHIN

    @property
    def is_away(self) -> bool:
        """Not taking new work by their own say (away, busy or signed off)."""
        return self.availability != Availability.AVAILABLE

    def is_available(self, now: datetime | None = None) -> bool:
        """Routing may give the agent work now: active, console open and set available."""
        return self.is_active and self.user.is_active and not self.is_away and self.is_online(now)


class Team(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=80)
    members = models.ManyToManyField(Membership, related_name="teams", blank=True)
    # Off: a handoff to the team waits in its queue ("My teams") for a member to take it.
    auto_assign = models.BooleanField(
        default=False,
        help_text=_(
            "Give a handoff to this team at once to its available member with the fewest "
            "unresolved conversations, instead of leaving it in the team's queue."
        ),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="team_brand_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiScope(models.TextChoices):
    """What a token may do, within its agent's role (a scope never adds a power).

    ``read``: safe methods only (GET, HEAD); ``write``: also the writes an agent of
    that role may make; ``admin``: also the administrators' endpoints (imports,
    webhooks, the assistant's configuration, raw mail), if the agent is one.
    """

    READ = "read", _("Read")
    WRITE = "write", _("Read and write")
    ADMIN = "admin", _("Administration")


class ApiToken(models.Model):
    """A per-agent REST API token; only its SHA-256 is stored, the key is shown once.

    Tokens made before scopes existed were migrated to ``admin``, with no expiry:
    they keep doing what they did (their agent's role still bounds them).
    """

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(max_length=8, choices=ApiScope.choices, default=ApiScope.ADMIN)
    # None: never expires. The API refuses the key from this instant on (401).
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @classmethod
    def issue(
        cls,
        membership: Membership,
        name: str,
        scope: str = ApiScope.ADMIN,
        expires_at: datetime | None = None,
    ) -> tuple["ApiToken", str]:
        """Create a token and return it with its clear key, which is never stored."""
        key = f"cpt_{secrets.token_urlsafe(32)}"
        token = cls.objects.create(
            membership=membership,
            name=name,
            prefix=key[:12],
            key_hash=hash_api_key(key),
            scope=scope,
            expires_at=expires_at,
        )
        return token, key
