"""The customer's case (conversation), its episodes (contacts), messages and the event log."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from comptoir.customers.models import Customer
from comptoir.tenancy.models import Brand, Membership, Team


class Channel(models.TextChoices):
    WEBCHAT = "webchat", _("Web chat")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    WHATSAPP = "whatsapp", _("WhatsApp")
    MESSENGER = "messenger", _("Messenger")
    API = "api", _("API")


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    RESOLVED = "resolved", _("Resolved")


# Not resolved: what a customer's next message threads into and agents still have to handle.
OPEN_STATUSES = (Status.OPEN, Status.PENDING)


class Priority(models.IntegerChoices):
    LOW = 0, _("Low")
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")
    URGENT = 3, _("Urgent")


class Conversation(models.Model):
    """One case of one customer, which may span several channels and contacts."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="conversations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="conversations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    subject = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The resolved conversation this one continues (a reply that came too late to reopen it).
    follows = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="followed_by"
    )

    class Meta:
        indexes = [
            models.Index(fields=["brand", "status", "assignee"], name="conv_brand_status_assignee"),
            models.Index(fields=["customer", "status"], name="conv_customer_status"),
            # The inbox's pages and capped counts (``console.queries.load_inbox``): open
            # conversations most recently active first, walked from the top of an index.
            models.Index(
                fields=["brand", "-last_message_at", "-id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="conv_open_recent",
            ),
            models.Index(
                fields=["brand", "-last_message_at", "-id"],
                condition=Q(status__in=OPEN_STATUSES, assignee__isnull=True),
                name="conv_unassigned_recent",
            ),
            models.Index(
                fields=["assignee", "-last_message_at", "-id"],
                condition=Q(status__in=OPEN_STATUSES),
                name="conv_assigned_open_recent",
            ),
            models.Index(
                fields=["team", "-last_message_at", "-id"],
                condition=Q(status__in=OPEN_STATUSES, assignee__isnull=True),
                name="conv_team_waiting_recent",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def reference(self) -> str:
        return f"#{self.pk}"


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class Contact(models.Model):
    """One episode on one channel: a chat session, a call, an e-mail exchange."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="contacts")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="contacts"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.INBOUND)
    started_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["conversation", "channel", "ended_at"], name="contact_conv_channel_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} contact #{self.pk}"


class AuthorKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    BOT = "bot", _("Assistant")
    SYSTEM = "system", _("System")


class Message(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="messages")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices)
    author = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(blank=True)
    is_internal_note = models.BooleanField(default=False)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 (NULLs stay distinct)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            # A redelivered webhook, mail or chat send carries the same external id:
            # the second insert fails and ingest returns the first message.
            models.UniqueConstraint(
                fields=["brand", "channel", "external_id"],
                name="message_channel_external_id_unique",
            )
        ]
        indexes = [models.Index(fields=["conversation", "created_at"], name="message_conv_created")]

    def __str__(self) -> str:
        return f"{self.author_kind} message #{self.pk}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # The stored name never contains what the sender chose; that lives in ``filename``.
    return f"attachments/{instance.brand_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.filename
