"""Every kind of event, with the schema of its payload: the one registry.

An event's ``payload`` is what agents' consoles receive (and integrators read
back from the log); ``customer_payload``, when a kind has one, is what the
customer's own widget may see. ``published=False`` kinds stay in the log for
listeners and are never sent to sockets. ``append_event`` checks payloads
against these schemas when ``settings.EVENTS_VALIDATE_PAYLOADS`` is on (tests,
DEBUG); each kind has a test that produces it through a real action.

Listeners hang on these kinds (``comptoir.events.listeners.on``); which listeners
exist is listed in docs/architecture.md.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


class Schema(BaseModel):
    # A key an action adds without its schema knowing it fails the kind's test.
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class EventKind:
    name: str
    payload: type[Schema]
    description: str
    customer_payload: type[Schema] | None = None
    published: bool = True

    def __str__(self) -> str:
        return self.name


KINDS: dict[str, EventKind] = {}


def kind(
    name: str,
    payload: type[Schema],
    description: str,
    *,
    customer_payload: type[Schema] | None = None,
    published: bool = True,
) -> EventKind:
    if name in KINDS:
        raise ValueError(f"event kind {name!r} declared twice")
    KINDS[name] = EventKind(name, payload, description, customer_payload, published)
    return KINDS[name]


# --- Payload schemas --------------------------------------------------------------------------


def _aware(value: str) -> str:
    if datetime.fromisoformat(value).tzinfo is None:
        raise ValueError("a timestamp without its time zone")
    return value


# An ISO 8601 timestamp with its offset: browsers read one without as local time.
Timestamp = Annotated[str, AfterValidator(_aware)]


class AttachmentSchema(Schema):
    id: int
    filename: str
    content_type: str
    size: int


class ConversationSummarySchema(Schema):
    id: int
    status: str
    customer_id: int
    assignee_id: int | None
    channel: str
    last_message_at: Timestamp


class MessageSchema(Schema):
    id: int
    conversation_id: int
    direction: str
    author_kind: str
    author_name: str
    text: str
    is_internal_note: bool
    channel: str
    created_at: Timestamp
    attachments: list[AttachmentSchema]
    # The conversation's state after the message (absent on internal notes and edits).
    conversation: ConversationSummarySchema | None = None


class CustomerMessageSchema(Schema):
    id: int
    conversation_id: int
    direction: str
    author_kind: str
    author_name: str
    text: str
    channel: str
    created_at: Timestamp
    attachments: list[AttachmentSchema]


class ConversationSchema(ConversationSummarySchema):
    customer_label: str
    assignee_name: str | None
    team_id: int | None
    priority: int


class ConversationStatusSchema(Schema):
    id: int
    status: str


class DeliverySchema(Schema):
    message_id: int
    conversation_id: int
    status: str
    attempts: int
    error: str


class CallSchema(Schema):
    id: int
    conversation_id: int
    customer_id: int
    contact_id: int
    direction: str
    status: str
    from_number: str
    to_number: str
    agent_id: int | None
    queued_at: str | None
    answered_at: str | None
    ended_at: str | None
    wait_seconds: int | None
    talk_seconds: int | None
    recording_url: str


class CallbackSchema(Schema):
    id: int
    conversation_id: int | None
    customer_id: int
    number: str
    requested_for: str
    status: str
    handled_by_id: int | None
    call_id: int | None


class AvailabilitySchema(Schema):
    membership_id: int
    availability: str
    # Set when Comptoir changed it ("inactivity": no activity for the brand's delay).
    reason: str | None = None


class AssignmentSchema(Schema):
    conversation_id: int
    assignee_id: int | None
    team_id: int | None
    previous_assignee_id: int | None
    # advisor, skills, widened, overflow (the router); manual, transfer, answered (people).
    reason: str
    # How long it waited in the router's queue (None: it never waited there).
    waited_seconds: int | None
    # When it was decided (the router's clock, which a simulation sets): handle times
    # are measured from here to the conversation's resolution (``routing.estimates``).
    assigned_at: Timestamp


class CustomerUpdatedSchema(Schema):
    customer_id: int
    display_name: str


class DataRequestSchema(Schema):
    """A person's request about their data (``gdpr.models.DataRequest``): ids and times only."""

    request_id: int
    customer_id: int
    kind: str
    status: str
    source: str
    due_at: Timestamp


class ConsentSchema(Schema):
    """A customer's answer about one purpose (``customers.models.ConsentPurpose``)."""

    customer_id: int
    purpose: str
    granted: bool
    # Where it was given: console, widget, survey, portal, an import…
    source: str


class IdentitySchema(Schema):
    customer_id: int
    kind: str
    value: str
    id: int | None = None
    verified: bool | None = None
    failing_since: str | None = None
    failure_reason: str | None = None
    reason: str | None = None
    actor_id: int | None = None


class IdentityClaimedSchema(Schema):
    from_customer_id: int
    to_customer_id: int
    identities: list[tuple[str, str]]


class AdvisorSchema(Schema):
    customer_id: int
    advisor_id: int | None
    actor_id: int


class DuplicateDismissedSchema(Schema):
    customer_id: int
    proposal_id: int
    actor_id: int


class MergeSchema(Schema):
    merge_id: int
    survivor_id: int
    absorbed_id: int
    actor_id: int
    customer_id: int


class Nothing(Schema):
    """What a customer's widget gets of a merge: only a sign to look its customer up again."""


class MailReceivedSchema(Schema):
    message_id: int
    conversation_id: int
    mailbox_id: int | None
    conversation_created: bool


class AssistantOutcomeSchema(Schema):
    conversation_id: int
    message_id: int
    reason: str
    intent: str
    confidence: float | None


class IntentsChangedSchema(Schema):
    brand_id: int


class SlaClockSchema(Schema):
    """One SLA target of a conversation as it stands when at risk or breached."""

    conversation_id: int
    target: str  # first_response, next_response, resolution
    policy_id: int | None
    due_at: Timestamp
    # Business seconds left before the breach (negative once breached).
    seconds_left: int


class SurveySentSchema(Schema):
    survey_id: int
    conversation_id: int
    contact_id: int
    customer_id: int
    channel: str
    # automatic (after the contact), agent, api, phone (the telephony asks itself).
    source: str
    reminder: bool


class SurveyQuestionSchema(Schema):
    """What the customer's widget needs to ask inline: the words and the signed answer token."""

    survey_id: int
    conversation_id: int
    token: str
    question: str
    effort_question: str | None


class SurveyAnsweredSchema(Schema):
    survey_id: int
    conversation_id: int
    contact_id: int
    customer_id: int
    channel: str
    # Who handled the contact, its team and the intent recognised in it: what reports group by.
    agent_id: int | None
    team_id: int | None
    intent: str
    csat: int
    ces: int | None
    comment: str
    answered_at: Timestamp


class SurveyDoneSchema(Schema):
    survey_id: int


class FollowUpSchema(Schema):
    follow_up_id: int
    survey_id: int
    conversation_id: int
    reason: str
    # open, done
    status: str
    done_by_id: int | None


class ImportedConversationSchema(Schema):
    """A conversation brought from another help desk, or more of its past messages."""

    conversation_id: int
    customer_id: int
    source: str  # zendesk, chatwoot
    external_id: str
    messages_added: int


class WebhookEndpointDisabledSchema(Schema):
    """A webhook endpoint switched off after failing for days (its URL, never its secret)."""

    endpoint_id: int
    url: str
    failing_since: Timestamp
    last_error: str


class SettingsChangedSchema(Schema):
    """What an administrator changed in the console's Settings: never a secret's value."""

    # brand, agent, team, mailbox, messaging_account, phone_line, api_token, canned_reply
    object: str
    object_id: int
    # created, updated, invited, role_changed, deactivated, reactivated, deleted,
    # revoked, secret_rotated
    change: str
    fields: list[str] = []


class AppointmentSchema(Schema):
    """An appointment (or a walk-in's ticket) as it stands after the change."""

    id: int
    reference: str
    location_id: int
    service_id: int
    customer_id: int | None
    conversation_id: int | None
    device_id: int | None
    status: str
    starts_at: Timestamp
    ends_at: Timestamp
    walk_in: bool
    ticket: int | None
    # Who served or was called to serve (called, served).
    served_by_id: int | None
    # The slot it left (rescheduled only).
    previous_starts_at: Timestamp | None = None
    outcome: str = ""


# --- The kinds ------------------------------------------------------------------------------

CONVERSATION_CREATED = kind(
    "conversation.created",
    MessageSchema,
    "A customer's first message (or a call's summary line) opened a conversation.",
    customer_payload=CustomerMessageSchema,
)
CONVERSATION_UPDATED = kind(
    "conversation.updated",
    ConversationSchema,
    "Status, assignee, team or priority changed.",
    customer_payload=ConversationStatusSchema,
)
MESSAGE_CREATED = kind(
    "message.created",
    MessageSchema,
    "A message in a conversation: the customer's, an agent's reply or note, the assistant's.",
    customer_payload=CustomerMessageSchema,
)
MESSAGE_UPDATED = kind(
    "message.updated", MessageSchema, "A message's text changed (a call transcript completed)."
)
DELIVERY_UPDATED = kind(
    "delivery.updated", DeliverySchema, "An outbound message was sent, delivered, read or failed."
)
CALL_UPDATED = kind("call.updated", CallSchema, "A phone call rang, was answered or ended.")
CALLBACK_REQUESTED = kind(
    "callback.requested", CallbackSchema, "A customer asked to be called back."
)
CALLBACK_UPDATED = kind(
    "callback.updated", CallbackSchema, "A callback request was called, done or cancelled."
)
CONVERSATION_ASSIGNED = kind(
    "conversation.assigned",
    AssignmentSchema,
    "A conversation was given to an agent or a team, with why (``reason``): what reports count.",
)
AGENT_AVAILABILITY_CHANGED = kind(
    "agent.availability_changed",
    AvailabilitySchema,
    "An agent's presence changed: available, busy, away (by themselves or after inactivity), "
    "offline.",
)
CUSTOMER_UPDATED = kind("customer.updated", CustomerUpdatedSchema, "A customer's name changed.")
CUSTOMER_IDENTITY_ADDED = kind(
    "customer.identity_added", IdentitySchema, "An address, number or account joined a customer."
)
CUSTOMER_IDENTITY_VERIFIED = kind(
    "customer.identity_verified", IdentitySchema, "An agent confirmed a customer's identity."
)
CUSTOMER_IDENTITY_REMOVED = kind(
    "customer.identity_removed", IdentitySchema, "An agent removed a customer's identity."
)
CUSTOMER_IDENTITY_FAILING = kind(
    "customer.identity_failing", IdentitySchema, "Mail to this address bounced."
)
CUSTOMER_IDENTITY_CLAIMED = kind(
    "customer.identity_claimed",
    IdentityClaimedSchema,
    "A channel proved an identity another customer had only typed: its owner took it.",
)
CUSTOMER_ADVISOR_CHANGED = kind(
    "customer.advisor_changed", AdvisorSchema, "A customer's own advisor changed."
)
CUSTOMER_DUPLICATE_DISMISSED = kind(
    "customer.duplicate_dismissed", DuplicateDismissedSchema, "Two files are not the same person."
)
CUSTOMER_CONSENT_RECORDED = kind(
    "customer.consent_recorded",
    ConsentSchema,
    "A customer gave or withdrew their consent to a purpose (service, surveys, marketing).",
)
DATA_REQUEST_OPENED = kind(
    "data_request.opened",
    DataRequestSchema,
    "A customer asked (themselves or through an agent) for an export or an erasure of their data.",
)
DATA_REQUEST_CLOSED = kind(
    "data_request.closed",
    DataRequestSchema,
    "A data request was fulfilled (export delivered, customer erased) or rejected.",
)
CUSTOMER_MERGED = kind(
    "customer.merged", MergeSchema, "Two customers were merged.", customer_payload=Nothing
)
CUSTOMER_UNMERGED = kind(
    "customer.unmerged", MergeSchema, "A merge was undone.", customer_payload=Nothing
)
MAIL_RECEIVED = kind(
    "email.received",
    MailReceivedSchema,
    "A mail was stored, with the mailbox it came to (what the acknowledgement needs).",
    published=False,
)
ASSISTANT_ANSWERED = kind(
    "assistant.answered", AssistantOutcomeSchema, "The assistant answered a customer message."
)
ASSISTANT_HANDOFF = kind(
    "assistant.handoff",
    AssistantOutcomeSchema,
    "The assistant handed the conversation to a person (``reason`` says why).",
)
ASSISTANT_CLASSIFIED = kind(
    "assistant.classified",
    AssistantOutcomeSchema,
    "The assistant recognised the intent of a message it does not answer (a call transcript).",
)
ASSISTANT_INTENTS_CHANGED = kind(
    "assistant.intents_changed",
    IntentsChangedSchema,
    "An administrator changed the assistant's intents: its classifier is out of date.",
    published=False,
)
SLA_AT_RISK = kind(
    "sla.at_risk",
    SlaClockSchema,
    "An SLA target of a conversation has used its at-risk share of its time (80 % by default).",
)
SLA_BREACHED = kind(
    "sla.breached", SlaClockSchema, "An SLA target of a conversation passed its due time."
)
CONVERSATION_IMPORTED = kind(
    "conversation.imported",
    ImportedConversationSchema,
    "A conversation and its past messages were imported from another help desk (moving in): "
    "nothing reacts to it as to live traffic (no answer, routing, SLA or delivery).",
    published=False,
)
WEBHOOK_ENDPOINT_DISABLED = kind(
    "webhook.endpoint_disabled",
    WebhookEndpointDisabledSchema,
    "An outbound webhook endpoint failed every delivery for days and was switched off.",
)

SURVEY_SENT = kind(
    "survey.sent",
    SurveySentSchema,
    "A satisfaction survey was sent after a contact (or its one reminder).",
    customer_payload=SurveyQuestionSchema,
)
SURVEY_ANSWERED = kind(
    "survey.answered",
    SurveyAnsweredSchema,
    "A customer answered a survey: satisfaction 1-5, effort 1-7, a comment.",
    customer_payload=SurveyDoneSchema,
)
SURVEY_FOLLOW_UP = kind(
    "survey.follow_up",
    FollowUpSchema,
    "A low score or negative comment opened a follow-up for a supervisor, or it was done.",
)


SETTINGS_CHANGED = kind(
    "settings.changed",
    SettingsChangedSchema,
    "An administrator changed the brand's settings, agents, teams, channels or API tokens "
    "(the audit trail of Settings; secrets are never in it).",
    published=False,
)

APPOINTMENT_BOOKED = kind(
    "appointment.booked",
    AppointmentSchema,
    "A customer booked a slot (or a walk-in took a ticket).",
)
APPOINTMENT_RESCHEDULED = kind(
    "appointment.rescheduled", AppointmentSchema, "A booking moved to another slot."
)
APPOINTMENT_CANCELLED = kind(
    "appointment.cancelled", AppointmentSchema, "A booking was cancelled: its place is free."
)
APPOINTMENT_CHECKED_IN = kind(
    "appointment.checked_in", AppointmentSchema, "The customer arrived: in the waiting room."
)
APPOINTMENT_CALLED = kind(
    "appointment.called", AppointmentSchema, "Staff called the customer to a desk."
)
APPOINTMENT_SERVED = kind(
    "appointment.served", AppointmentSchema, "The customer was served (with the outcome)."
)
APPOINTMENT_NO_SHOW = kind(
    "appointment.no_show", AppointmentSchema, "The customer did not come (or left the queue)."
)

# The event each outcome of the assistant's work on a message appends.
ASSISTANT_OUTCOMES = {
    "answered": ASSISTANT_ANSWERED,
    "handoff": ASSISTANT_HANDOFF,
    "classified": ASSISTANT_CLASSIFIED,
}
