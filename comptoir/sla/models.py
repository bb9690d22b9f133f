"""Business calendars, SLA policies and the clocks they run on each conversation.

A brand has one default calendar (``team`` empty) and may give a team its own;
a policy names the calendar its targets count in. Clocks are per conversation
and target (first response, next response, resolution): see ``sla.clocks``.
"""

from datetime import time
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import Channel, Conversation, Priority
from comptoir.sla.calendars import Calendar
from comptoir.tenancy.models import Brand, Team


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("Unknown time zone: %(zone)s"), params={"zone": value})


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BusinessCalendar(models.Model):
    """When a brand's (or one team's) people work: the time SLA targets count in."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="business_calendars")
    # Empty: the brand's default calendar; set: that team's own hours.
    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="business_calendar"
    )
    name = models.CharField(max_length=80)
    time_zone = models.CharField(
        max_length=64, default="Europe/Paris", validators=[validate_time_zone]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="calendar_brand_name_unique"),
            models.UniqueConstraint(
                fields=["brand"], condition=Q(team__isnull=True), name="calendar_one_brand_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def as_calendar(self) -> Calendar:
        """The pure calendar the arithmetic runs on (three queries, or none when prefetched)."""
        week: dict[int, list[tuple[time, time]]] = {}
        for interval in self.intervals.all():
            week.setdefault(interval.weekday, []).append((interval.start, interval.end))
        holidays = frozenset(holiday.date for holiday in self.holidays.all())
        closures = tuple((c.starts_at, c.ends_at) for c in self.closures.all())
        return Calendar(
            ZoneInfo(self.time_zone),
            {day: tuple(sorted(spans)) for day, spans in week.items()},
            holidays=holidays,
            closures=closures,
        )


class OpeningInterval(models.Model):
    """One stretch of opening on a weekday (local time); a break is the gap between two."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="intervals"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    # 00:00 means midnight at the end of the day.
    end = models.TimeField()

    class Meta:
        ordering = ["weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class Holiday(models.Model):
    """A whole local date closed (a public holiday, a closing day)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"], name="holiday_calendar_date_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Closure(models.Model):
    """A closed stretch between two instants (an afternoon off, a timed iCal event)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closures"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    name = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="closure_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.name}"


class ReopenRule(models.TextChoices):
    RESUME = "resume", _("Resume the resolution clock where it stopped")
    RESTART = "restart", _("Restart the resolution clock from zero")


class SlaPolicy(models.Model):
    """Targets for the conversations it matches; the most specific matching policy wins.

    A criterion left empty matches anything. Specificity: the number of
    criteria set, then team before priority before channel (``sla.policies``).
    A target left empty is not measured.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="sla_policies")
    name = models.CharField(max_length=80)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="policies"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="sla_policies"
    )
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    next_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    at_risk_percent = models.PositiveSmallIntegerField(default=80)
    on_reopen = models.CharField(
        max_length=8, choices=ReopenRule.choices, default=ReopenRule.RESUME
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brand", "name"], name="sla_policy_brand_name_unique"),
            models.CheckConstraint(
                condition=Q(at_risk_percent__gte=1, at_risk_percent__lte=99),
                name="sla_policy_at_risk_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Target(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    STOPPED = "stopped", _("Stopped")


class ConversationSla(models.Model):
    """A conversation's policy, and the last event its clocks have taken into account."""

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="sla")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(SlaPolicy, on_delete=models.SET_NULL, null=True, related_name="+")
    # Events are applied in order, once: a listener job run twice skips what it saw.
    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"SLA of conversation #{self.conversation_id}"


class SlaClock(models.Model):
    """One target's clock on one conversation, counted in its policy's business time.

    ``elapsed_seconds`` is the business time used before ``running_since``
    (the last start or resume); while running, ``due_at`` and ``at_risk_at``
    are the instants the target is breached and at risk. Timers read them again
    when they run (``sla.tasks``): a timer of a clock that moved does nothing.
    """

    sla = models.ForeignKey(ConversationSla, on_delete=models.CASCADE, related_name="clocks")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    target = models.CharField(max_length=16, choices=Target.choices)
    target_seconds = models.PositiveIntegerField()
    state = models.CharField(max_length=8, choices=ClockState.choices)
    started_at = models.DateTimeField()
    running_since = models.DateTimeField(null=True, blank=True)
    elapsed_seconds = models.FloatField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    at_risk_at = models.DateTimeField(null=True, blank=True)
    at_risk_notified_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "target"], name="sla_clock_conversation_target_unique"
            )
        ]
        indexes = [models.Index(fields=["brand", "state", "due_at"], name="sla_clock_brand_due")]

    def __str__(self) -> str:
        return f"{self.target} clock of #{self.conversation_id}"

    @property
    def met(self) -> bool:
        return self.state == ClockState.STOPPED and self.breached_at is None
