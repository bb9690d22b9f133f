"""Phone lines, calls (each one a contact of the customer's conversation) and callback requests."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import Contact, Conversation, Direction, Message
from comptoir.customers.models import Customer
from comptoir.security.fields import EncryptedTextField
from comptoir.tenancy.models import Brand, Membership


class Provider(models.TextChoices):
    """Who reports a call's events (and, for lines, who places outbound calls)."""

    GENERIC = "generic", _("Generic webhook")
    TWILIO = "twilio", _("Twilio")
    LOG = "log", _("Log only (demo)")


class PhoneLine(models.Model):
    """A brand's phone number and the secrets its provider signs webhooks with.

    ``webhook_secret`` signs the generic JSON format (HMAC-SHA256 of the body);
    ``twilio_auth_token`` signs Twilio's callbacks and authenticates outbound
    calls through Twilio's REST API (with ``twilio_account_sid``).
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="phone_lines")
    number = models.CharField(max_length=20, unique=True, help_text=_("E.164, e.g. +33180000000"))
    label = models.CharField(max_length=80, blank=True)
    # Who places click-to-call calls: "twilio" or "log" (records the request only).
    provider = models.CharField(max_length=10, choices=Provider.choices, default=Provider.LOG)
    webhook_secret = EncryptedTextField(blank=True)
    twilio_account_sid = models.CharField(max_length=64, blank=True)
    twilio_auth_token = EncryptedTextField(blank=True)
    twilio_base_url = models.URLField(default="https://api.twilio.com")
    # Where Twilio reports the progress of calls placed from the console (our
    # /webhooks/twilio/<brand>/voice URL as the internet reaches it); blank: none.
    status_callback_url = models.URLField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.label or self.number


class CallStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RINGING = "ringing", _("Ringing")
    IN_PROGRESS = "in-progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    NO_ANSWER = "no-answer", _("Not answered")
    BUSY = "busy", _("Busy")
    FAILED = "failed", _("Failed")
    VOICEMAIL = "voicemail", _("Voicemail")


# A call only moves forward: a late "ringing" never undoes "in progress", and
# nothing undoes an ending (the terminal statuses share the last rank).
STATUS_RANK = {
    CallStatus.QUEUED: 0,
    CallStatus.RINGING: 1,
    CallStatus.IN_PROGRESS: 2,
    CallStatus.COMPLETED: 3,
    CallStatus.NO_ANSWER: 3,
    CallStatus.BUSY: 3,
    CallStatus.FAILED: 3,
    CallStatus.VOICEMAIL: 3,
}
TERMINAL_STATUSES = {status for status, rank in STATUS_RANK.items() if rank == 3}


class Call(models.Model):
    """One phone call: a contact (channel phone) of the customer's conversation."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="calls")
    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="call")
    # The timeline line that shows the call (a system message, kept up to date).
    summary_message = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="call_summary"
    )
    line = models.ForeignKey(
        PhoneLine, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    provider = models.CharField(max_length=10, choices=Provider.choices)
    provider_call_id = models.CharField(max_length=128)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    from_number = models.CharField(max_length=20)
    to_number = models.CharField(max_length=20)
    status = models.CharField(max_length=12, choices=CallStatus.choices, default=CallStatus.QUEUED)
    queued_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    agent = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    wait_seconds = models.PositiveIntegerField(null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(null=True, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    transcript = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "provider", "provider_call_id"], name="call_provider_id_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.direction} call {self.provider_call_id}"

    @property
    def customer_number(self) -> str:
        return self.from_number if self.direction == Direction.INBOUND else self.to_number


class CallEventRecord(models.Model):
    """An event already applied to a call: a replayed webhook finds it and changes nothing."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="event_records")
    key = models.CharField(max_length=200)
    kind = models.CharField(max_length=12)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["call", "key"], name="call_event_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} of call #{self.call_id}"


class CallbackStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    SCHEDULED = "scheduled", _("Scheduled")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")


# Still waiting for an agent (a failed attempt stays in the queue to be tried again).
OPEN_CALLBACK_STATUSES = (CallbackStatus.REQUESTED, CallbackStatus.SCHEDULED, CallbackStatus.FAILED)


class CallbackRequest(models.Model):
    """A customer asked to be called back, now (``requested``) or at a slot (``scheduled``)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="callback_requests")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="callback_requests"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="callback_requests"
    )
    number = models.CharField(max_length=20)
    requested_for = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.REQUESTED
    )
    note = models.CharField(max_length=500, blank=True)
    # Where it came from: "widget", "api" or "console".
    source = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    # The customer's message that asked for it (its external id makes a retried request a no-op).
    message = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="callback_request"
    )
    # The last call placed for it from the console, if any.
    call = models.ForeignKey(
        Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="callback_requests"
    )
    # Set while an agent's "Call now" waits for the provider: a second click is refused.
    dialing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["brand", "status", "requested_for"], name="callback_queue")]

    def __str__(self) -> str:
        return f"callback {self.number} ({self.status})"
