"""The JSON shapes of the integrator API, as published in its OpenAPI document."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import StrictBool, field_validator

from comptoir.conversations.models import Conversation, Message
from comptoir.conversations.payloads import author_name
from comptoir.customers.models import Customer
from comptoir.tenancy.models import Membership, Team

StatusValue = Literal["open", "pending", "resolved"]
AvailabilityValue = Literal["available", "busy", "away", "offline"]

# A reply is read by a person; anything longer is almost certainly a mistake.
MESSAGE_TEXT_MAX_LENGTH = 10_000

# Every id is a PostgreSQL bigint: a larger number cannot name a row and, unchecked,
# makes the database raise (a 500). Ids in a path that is out of range answer 404,
# anywhere else 422 (``comptoir.api.urls``).
MAX_BIGINT = 2**63 - 1
ObjectId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
# Booleans in bodies are JSON ``true``/``false`` only: ``"internal_note": 0`` used to be
# read as false and send an intended note to the customer.


class ErrorOut(Schema):
    detail: str = Field(description="Why the request was refused.")


class IdentityOut(Schema):
    id: int
    kind: str = Field(description="email, phone, chat_visitor, customer_number, whatsapp, ...")
    value: str = Field(description="The normalised value (e-mails case-folded, phones E.164).")
    verified: bool
    created_at: datetime


class CustomerOut(Schema):
    id: int
    display_name: str = Field(description="Empty when the customer never gave a name.")
    label: str = Field(description="What agents see: the name, or 'Visitor #id'.")
    language: str
    is_vip: bool
    advisor_id: int | None = Field(
        None, description="The customer's own advisor (an agent id): handoffs go to them first."
    )
    created_at: datetime
    updated_at: datetime
    identities: list[IdentityOut]
    merged_into_id: int | None = Field(
        None, description="Set when this customer was merged into another: read that one."
    )

    @staticmethod
    def resolve_label(customer: Customer) -> str:
        return str(customer.label)


class CustomerRef(Schema):
    id: int
    label: str

    @staticmethod
    def resolve_label(customer: Customer) -> str:
        return str(customer.label)


class AgentRef(Schema):
    id: int = Field(description="The agent's membership id (use it as assignee_id).")
    name: str

    @staticmethod
    def resolve_name(membership: Membership) -> str:
        return membership.display_name


class AvailabilityOut(Schema):
    membership_id: int = Field(description="The token's agent (membership id).")
    availability: AvailabilityValue = Field(
        description="What the agent says: 'available', 'busy' (keeps their work, gets nothing "
        "new), 'away' (lunch, meeting, or after inactivity) or 'offline' (signed off)."
    )
    online: bool = Field(description="The agent's console is open (seen within the last 90 s).")
    available: bool = Field(
        description="Handoffs may go to the agent now: active, console open and not away."
    )

    @staticmethod
    def resolve_membership_id(membership: Membership) -> int:
        return membership.pk

    @staticmethod
    def resolve_online(membership: Membership) -> bool:
        return membership.is_online()

    @staticmethod
    def resolve_available(membership: Membership) -> bool:
        return membership.is_available()


class AvailabilityIn(Schema):
    availability: AvailabilityValue = Field(
        description="'busy', 'away', 'offline': the router passes the agent over; "
        "'available': back."
    )


class TeamOut(Schema):
    id: int
    name: str
    member_ids: list[int] = Field(description="The agents (memberships) of the team.")

    @staticmethod
    def resolve_member_ids(team: Team) -> list[int]:
        return sorted(member.pk for member in team.members.all())


class WaitOut(Schema):
    """Where a conversation stands in the router's line (``routing.estimates``)."""

    waiting: bool = Field(description="Whether it waits in a line for an agent.")
    position: int | None = Field(None, description="1: the next one an agent takes.")
    in_line: int | None = Field(None, description="Conversations in that line, this one included.")
    estimated_wait_seconds: int | None = Field(
        None,
        description="Expected wait in seconds; null when nobody who could take it is available.",
    )
    agents_available: int | None = None


class ConversationOut(Schema):
    id: int
    status: StatusValue
    channel: str = Field(description="The channel the conversation started on.")
    priority: int = Field(description="0 low, 1 normal, 2 high, 3 urgent.")
    subject: str
    customer: CustomerRef
    assignee: AgentRef | None
    team_id: int | None = Field(None, description="The team whose queue it waits in, if any.")
    created_at: datetime
    last_message_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    tags: list[str] = Field(description="Its tags' names, alphabetically.")

    @staticmethod
    def resolve_customer(conversation: Conversation) -> Customer:
        return conversation.customer

    @staticmethod
    def resolve_tags(conversation: Conversation) -> list[str]:
        # Lists prefetch ``tags``; a single conversation costs one query.
        return sorted((tag.name for tag in conversation.tags.all()), key=str.casefold)


class TagsIn(Schema):
    tags: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        max_length=50,
        description="Exactly the tags the conversation should carry (names; new ones are "
        "created in the brand; case does not matter).",
    )


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int = Field(description="Size in bytes.")


class MessageOut(Schema):
    id: int
    conversation_id: int
    direction: Literal["in", "out"]
    author_kind: Literal["customer", "agent", "bot", "system"]
    author: AgentRef | None = Field(description="The agent who wrote it, for agent messages.")
    author_name: str
    text: str
    is_internal_note: bool = Field(description="Visible to agents only, never to the customer.")
    channel: str
    created_at: datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_author_name(message: Message) -> str:
        return str(author_name(message))


class TextIn(Schema):
    """A text someone wrote: not empty, not only blanks, within the message limit."""

    text: str = Field(min_length=1, max_length=MESSAGE_TEXT_MAX_LENGTH)

    @field_validator("text")
    @classmethod
    def text_not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text must not be blank")
        return text


class MessageIn(TextIn):
    internal_note: StrictBool = Field(
        False, description="True: an internal note for agents, not sent to the customer."
    )


class AssignIn(Schema):
    assignee_id: ObjectId | None = Field(
        description="Membership id of an active agent of the brand; null to unassign."
    )
