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
    # Next responses: each wait of the customer for the next reply once the first was given
    # (from the oldest unanswered message to the agent's reply): their sum and number.
    next_response_seconds_total = models.PositiveIntegerField(default=0)
    next_responses = models.PositiveIntegerField(default=0)
    # Wait: from the opening until an agent took it (first assignment to a person, or a
    # call answered). Handle: from then until its resolution.
    taken_at = models.DateTimeField(null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(null=True, blank=True)
    handle_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Under an SLA policy (``sla.ConversationSla``), and whether any target was breached.
    has_sla = models.BooleanField(default=False)
    sla_breached = models.BooleanField(default=False)
    # The assistant answered the customer, and handed the conversation to a person.
    assistant_answered = models.BooleanField(default=False)
    assistant_handoff = models.BooleanField(default=False)

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


class DayFigures(models.Model):
    """Per-day roll-up of ``ConversationFacts`` and surveys: what a report over a period reads.

    One row per brand, day and key of a *grouping* (``""``: the whole brand;
    ``"channel"``; ``"agent,channel"``: one agent on one channel; every single
    dimension and every pair of channel, team, agent and intent). Columns a
    grouping does not name hold ``""``/``None`` and are not read. Conversation
    counters count the conversations opened that day (their FCR with the
    brand's window, ``fcr_days``); ``closed*`` the ones resolved that day (the
    backlog: opened minus closed up to a day); survey counters the surveys sent
    that day. Kept by ``rollups.refresh`` for the days the catch-up touched;
    ``rollups.rebuild`` equals them (tested).
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    grouping = models.CharField(max_length=40)
    channel = models.CharField(max_length=16, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True)
    agent_id = models.BigIntegerField(null=True, blank=True)
    intent = models.CharField(max_length=120, blank=True)
    fcr_days = models.PositiveSmallIntegerField()
    conversations = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    fcr = models.PositiveIntegerField(default=0)
    resolved_contacts = models.PositiveIntegerField(default=0)
    first_response_sum = models.BigIntegerField(default=0)
    first_response_n = models.PositiveIntegerField(default=0)
    resolution_sum = models.BigIntegerField(default=0)
    resolution_n = models.PositiveIntegerField(default=0)
    next_response_sum = models.BigIntegerField(default=0)
    next_response_n = models.PositiveIntegerField(default=0)
    wait_sum = models.BigIntegerField(default=0)
    wait_n = models.PositiveIntegerField(default=0)
    handle_sum = models.BigIntegerField(default=0)
    handle_n = models.PositiveIntegerField(default=0)
    sla_n = models.PositiveIntegerField(default=0)
    sla_met = models.PositiveIntegerField(default=0)
    assistant_n = models.PositiveIntegerField(default=0)
    contained = models.PositiveIntegerField(default=0)
    handoffs = models.PositiveIntegerField(default=0)
    # Backlog: seconds since the epoch of the opened conversations' openings (its age).
    opened_epoch_sum = models.BigIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_epoch_sum = models.BigIntegerField(default=0)
    surveys_sent = models.PositiveIntegerField(default=0)
    surveys_answered = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    ces_sum = models.PositiveIntegerField(default=0)
    ces_n = models.PositiveIntegerField(default=0)
    csat_1 = models.PositiveIntegerField(default=0)
    csat_2 = models.PositiveIntegerField(default=0)
    csat_3 = models.PositiveIntegerField(default=0)
    csat_4 = models.PositiveIntegerField(default=0)
    csat_5 = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["brand", "grouping", "day"], name="dayfigures_brand_grouping_day")
        ]

    def __str__(self) -> str:
        return f"figures of {self.day} ({self.grouping or 'all'})"
