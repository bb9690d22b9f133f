"""Satisfaction surveys: each brand's settings, one survey per contact, supervisors' follow-ups."""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import Channel, Contact, Conversation
from comptoir.customers.models import Customer
from comptoir.tenancy.models import Brand, Membership, Team


def default_channels() -> list[str]:
    return [Channel.WEBCHAT, Channel.EMAIL, Channel.PHONE]


class SurveySettings(models.Model):
    """How a brand asks its customers after a contact (absent row: no survey at all)."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="survey_settings")
    # The channels surveyed after a contact ends; empty: surveys off (agents may still send one).
    channels = models.JSONField(default=default_channels, blank=True)
    delay_minutes = models.PositiveIntegerField(
        default=0, help_text=_("How long after the contact ends the survey is sent.")
    )
    ask_effort = models.BooleanField(
        default=True, help_text=_("Also ask how easy it was (customer effort, 1 to 7).")
    )
    question_fr = models.CharField(max_length=300, blank=True)
    question_en = models.CharField(max_length=300, blank=True)
    quiet_days = models.PositiveIntegerField(
        default=0,
        help_text=_("Nobody is asked again within this many days (0: after every contact)."),
    )
    after_auto_close = models.BooleanField(
        default=False, help_text=_("Also survey conversations Comptoir closed by itself.")
    )
    reminder_hours = models.PositiveIntegerField(
        default=0,
        help_text=_("Send one reminder after this many hours without an answer (0: none)."),
    )
    link_days = models.PositiveIntegerField(
        default=28, help_text=_("How many days a survey link stays valid.")
    )
    # Measures: a new contact of the same person within this many days undoes first-contact
    # resolution.
    fcr_days = models.PositiveIntegerField(default=7)

    def __str__(self) -> str:
        return f"surveys of {self.brand}"


class SurveyStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    CANCELLED = "cancelled", _("Cancelled")


class SurveySource(models.TextChoices):
    AUTOMATIC = "automatic", _("After the contact")
    AGENT = "agent", _("Sent by an agent")
    API = "api", _("Through the API")
    PHONE = "phone", _("Telephony (after the call)")


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


class Survey(models.Model):
    """The question asked after one contact, and its answer (at most one per contact)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="surveys")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="surveys")
    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="survey")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="surveys")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # Who handled the contact, and where it stood: what the answer is attached to.
    agent = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    intent = models.CharField(max_length=120, blank=True)
    source = models.CharField(max_length=10, choices=SurveySource.choices)
    status = models.CharField(max_length=10, choices=SurveyStatus.choices)
    language = models.CharField(max_length=8, default="en")
    # In the signed link: a survey answered or re-issued refuses older links.
    nonce = models.CharField(max_length=24, default=new_nonce)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    ces = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "sent_at"], name="survey_customer_sent"),
            models.Index(fields=["brand", "sent_at"], name="survey_brand_sent"),
        ]

    def __str__(self) -> str:
        return f"survey #{self.pk}"


class FollowUp(models.Model):
    """A low score or a negative comment: a supervisor calls or writes back."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="survey_follow_ups")
    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="follow_up")
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"follow-up of {self.survey}"


class ProactiveSettings(models.Model):
    """A brand's check-ins during a conversation (``surveys.proactive``): one row per brand.

    Waiting on the company: the customer's last message unanswered for
    ``check_in_hours`` gets a word that it is being handled (with the expected
    time when an SLA policy applies). Waiting on the customer (pending): a
    reminder after ``reminder_hours``, then a closing notice and the
    conversation resolved ``close_hours`` after the reminder. 0 turns a step off.
    """

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="proactive")
    channels = models.JSONField(default=list, blank=True)
    check_in_hours = models.PositiveSmallIntegerField(default=0)
    reminder_hours = models.PositiveSmallIntegerField(default=0)
    close_hours = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"proactive follow-up of brand #{self.brand_id}"


class NoticeKind(models.TextChoices):
    CHECK_IN = "check_in", _("Check-in")
    REMINDER = "reminder", _("Reminder")
    CLOSING = "closing", _("Closing notice")


class ProactiveNotice(models.Model):
    """A check-in, reminder or closing notice sent: at most one per kind and trigger.

    ``trigger``: the customer message a check-in answers, or the event that made
    the conversation pending (its reminder and closing notice).
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=NoticeKind.choices)
    trigger = models.BigIntegerField()
    message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "kind", "trigger"], name="proactive_notice_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} of conversation #{self.conversation_id}"
