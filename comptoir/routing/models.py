"""What the router needs to know: a brand's rules, agents' capacity and skills, who waits.

- ``RoutingSettings``: one row per brand (defaults when missing): the advisor's
  extra wait, the widening thresholds, default capacities, priority weights,
  automatic away.
- ``AgentProfile``: one row per agent seat: capacity overrides, languages, when
  they last got work (longest idle first) and last acted (automatic away).
- ``Skill`` / ``AgentSkill`` / ``SkillRequirement``: skills with levels 1 to 5, held
  by agents, required (or wanted) by intents and channels.
- ``QueueEntry``: one row per conversation waiting for the router; deleted when
  it is assigned (the ``conversation.assigned`` event keeps the why for reports).
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import Channel, Conversation
from comptoir.tenancy.models import Brand, Membership, Team


class ChannelGroup(models.TextChoices):
    """Capacity is counted per group of channels that load an agent alike."""

    CHAT = "chat", _("Chat")
    EMAIL = "email", _("E-mail")
    CALL = "call", _("Call")
    MESSAGING = "messaging", _("WhatsApp and Messenger")


CHANNEL_GROUPS: dict[str, str] = {
    Channel.WEBCHAT: ChannelGroup.CHAT,
    Channel.EMAIL: ChannelGroup.EMAIL,
    Channel.API: ChannelGroup.EMAIL,  # written, answered later, like a mail
    Channel.PHONE: ChannelGroup.CALL,
    Channel.WHATSAPP: ChannelGroup.MESSAGING,
    Channel.MESSENGER: ChannelGroup.MESSAGING,
}


def channel_group(channel: str) -> str:
    return CHANNEL_GROUPS.get(channel, ChannelGroup.EMAIL)


class AdvisorMode(models.TextChoices):
    NAMED_OR_LAST = "named_or_last", _("Named advisor, else the agent who last handled them")
    NAMED = "named", _("Named advisor only")
    OFF = "off", _("No advisor first")


# Defaults when a brand has no ``RoutingSettings`` row (and the row's field defaults).
DEFAULT_CAPACITY = {
    ChannelGroup.CHAT: 3,
    ChannelGroup.EMAIL: 10,
    ChannelGroup.CALL: 1,
    ChannelGroup.MESSAGING: 5,
}


class RoutingSettings(models.Model):
    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="routing_settings")
    advisor_mode = models.CharField(
        _("advisor first"), max_length=16, choices=AdvisorMode.choices, default="named_or_last"
    )
    # While another agent could take the conversation and nobody else waits for that slot:
    # every second waited here leaves a chat slot idle (bench/routing.py: the ASA's cost).
    advisor_wait_seconds = models.PositiveIntegerField(
        _("extra wait for a busy advisor (seconds)"), default=20
    )
    # While the slot the customer passes goes to someone behind them in line: waiting for the
    # advisor then leaves no slot idle, so it costs the line's average wait nothing.
    advisor_line_wait_seconds = models.PositiveIntegerField(
        _("wait for a busy advisor while others take the free slots (seconds)"),
        default=300,
        help_text=_(
            "A returning customer lets those behind them take the free agents and keeps "
            "waiting for their advisor, up to this long."
        ),
    )
    drop_optional_after_seconds = models.PositiveIntegerField(
        _("drop optional skills after (seconds)"), default=120
    )
    overflow_after_seconds = models.PositiveIntegerField(
        _("overflow to another team after (seconds)"), default=300
    )
    away_after_minutes = models.PositiveIntegerField(
        _("set inactive agents away after (minutes, 0: never)"), default=15
    )
    chat_capacity = models.PositiveSmallIntegerField(_("chats at once"), default=3)
    email_capacity = models.PositiveSmallIntegerField(_("e-mails at once"), default=10)
    call_capacity = models.PositiveSmallIntegerField(_("calls at once"), default=1)
    messaging_capacity = models.PositiveSmallIntegerField(
        _("WhatsApp and Messenger conversations at once"), default=5
    )
    call_takes_whole_capacity = models.BooleanField(
        _("a call takes the whole capacity"),
        default=True,
        help_text=_("An agent on a call gets nothing else, and gets a call only when free."),
    )
    # Minutes added to a waiting conversation's score: it goes ahead of those waiting less.
    vip_weight_minutes = models.PositiveSmallIntegerField(_("VIP priority (minutes)"), default=10)
    high_weight_minutes = models.PositiveSmallIntegerField(_("high priority (minutes)"), default=5)
    urgent_weight_minutes = models.PositiveSmallIntegerField(
        _("urgent priority (minutes)"), default=15
    )
    sla_risk_weight_minutes = models.PositiveSmallIntegerField(
        _("SLA at risk (minutes)"), default=20
    )
    # Channels whose new conversations are routed at once (the assistant's handoff routes
    # the others): e.g. "email,phone" for a brand whose assistant answers chats.
    route_new_channels = models.CharField(
        _("route new conversations on"), max_length=120, blank=True
    )
    # Above this estimated wait (or with nobody available), a waiting chat visitor is offered
    # a callback instead of waiting (``routing.estimates.WaitEstimate.offer_callback``).
    offer_callback_after_seconds = models.PositiveIntegerField(
        _("offer a callback when the wait exceeds (seconds, 0: never)"), default=300
    )

    def __str__(self) -> str:
        return f"routing of brand {self.brand_id}"

    def capacity(self, group: str) -> int:
        return getattr(self, f"{group}_capacity")

    def new_channels(self) -> set[str]:
        return {c.strip() for c in self.route_new_channels.split(",") if c.strip()}


class AgentProfile(models.Model):
    """Routing's view of one agent seat (created when first needed)."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="routing_profile"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    # None: the brand's default.
    chat_capacity = models.PositiveSmallIntegerField(_("chats at once"), null=True, blank=True)
    email_capacity = models.PositiveSmallIntegerField(_("e-mails at once"), null=True, blank=True)
    call_capacity = models.PositiveSmallIntegerField(_("calls at once"), null=True, blank=True)
    messaging_capacity = models.PositiveSmallIntegerField(
        _("WhatsApp and Messenger at once"), null=True, blank=True
    )
    # ISO 639-1 codes, comma separated; empty: not restricted (any language).
    languages = models.CharField(_("languages"), max_length=120, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    last_active_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"routing profile of {self.membership_id}"

    def capacity(self, group: str, brand_settings: RoutingSettings) -> int:
        own = getattr(self, f"{group}_capacity")
        return brand_settings.capacity(group) if own is None else own

    def language_set(self) -> set[str]:
        return {code.strip().lower() for code in self.languages.split(",") if code.strip()}


class Skill(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="skills")
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="skill_brand_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


LEVELS = [MinValueValidator(1), MaxValueValidator(5)]


class AgentSkill(models.Model):
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="agents")
    level = models.PositiveSmallIntegerField(default=3, validators=LEVELS)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "skill"], name="agent_skill_unique")
        ]

    def __str__(self) -> str:
        return f"{self.skill_id} level {self.level}"


class SkillRequirement(models.Model):
    """A skill an intent or a channel needs (``optional``: wanted, dropped after a wait).

    Exactly one of ``intent`` and ``channel`` is set.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="requirements")
    intent = models.ForeignKey(
        "assistant.Intent", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    min_level = models.PositiveSmallIntegerField(default=1, validators=LEVELS)
    optional = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"skill {self.skill_id} ≥ {self.min_level}"


class TeamRouting(models.Model):
    """Where a team's waiting conversations overflow after ``overflow_after_seconds``."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="routing")
    overflow_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"overflow of team {self.team_id}"


class QueueEntry(models.Model):
    """A conversation waiting for the router to give it to someone."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="queue_entry"
    )
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    language = models.CharField(max_length=8, blank=True)
    # [{"skill": id, "level": n, "optional": bool}], fixed when it was queued.
    skills = models.JSONField(default=list)
    # The advisor it waits for first (named, or the agent who last handled the customer).
    advisor = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    advisor_until = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["brand", "queued_at"], name="queue_brand_queued")]

    def __str__(self) -> str:
        return f"conversation {self.conversation_id} waiting"
