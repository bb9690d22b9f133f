"""What reports read: one row of figures per conversation, derived from its events.

The event log is the truth; these rows are a summary kept up with the log by
``facts.catch_up`` (a periodic task, and before each report) and rebuilt from
it at will (``facts.rebuild``, ``comptoir rebuild_reports``): the two agree (tested).
"""

from django.db import models

from comptoir.conversations.models import Channel, Conversation
from comptoir.tenancy.models import Brand


class ConversationFacts(models.Model):
    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, primary_key=True, related_name="facts"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # Plain ids: a deleted agent or team keeps its history in the figures.
    team_id = models.BigIntegerField(null=True, blank=True)
    agent_id = models.BigIntegerField(null=True, blank=True)
    intent = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Closed by Comptoir itself rather than by a person.
    auto_closed = models.BooleanField(default=False)
    # The customer's contacts (chat sessions, mails, calls they started) in this conversation.
    inbound_contacts = models.PositiveIntegerField(default=0)
    # When the same person (merged customers included) next opened a conversation after
    # this one's resolution, on any channel: what first-contact resolution looks at.
    next_conversation_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["brand", "created_at"], name="facts_brand_created"),
            models.Index(fields=["brand", "resolved_at"], name="facts_brand_resolved"),
        ]

    def __str__(self) -> str:
        return f"facts of conversation #{self.conversation_id}"


class FactsWatermark(models.Model):
    """The last event ``facts.catch_up`` has read (one row)."""

    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"facts up to event {self.last_event_id}"
