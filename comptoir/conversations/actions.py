"""What agents, and Comptoir on their behalf, do to conversations: replies, notes, status.

Each action writes in one transaction, appends events and lets
``append_event`` publish them after commit. Views, consumers, API endpoints and
channel adapters only parse input, check permissions and call an action.
Customers' messages come in through ``ingest``; who handles a conversation is
``comptoir.routing``'s. Every action says who did it (``actor``, or the
message's ``author``; None: Comptoir itself or the assistant), and the event it
appends tells agents (``actor_id``).
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from comptoir.conversations.models import (
    AuthorKind,
    Channel,
    Contact,
    Conversation,
    Direction,
    Message,
    Priority,
    Status,
)
from comptoir.conversations.payloads import (
    message_customer_payload,
    message_event_payload,
    message_payload,
)
from comptoir.conversations.state import (
    ConversationStateError,
    conversation_changed,
    lock_conversation,
)
from comptoir.customers.models import Identity, IdentityKind
from comptoir.events import kinds
from comptoir.events.actors import BOT, SYSTEM, Actor
from comptoir.events.log import append_event
from comptoir.outbox.senders import brand_can_send, sender_for
from comptoir.privacy.cards import mask_card_numbers
from comptoir.tenancy.models import Membership


class ChannelUnreachableError(ConversationStateError):
    """The agent chose a channel that cannot reach this customer."""


def _outbound_message(
    author: Membership | None,
    conversation: Conversation,
    text: str,
    *,
    is_internal_note: bool,
    author_kind: str = AuthorKind.AGENT,
    channel: str | None = None,
    quick_replies: dict | None = None,
) -> Message:
    if not text.strip():
        raise ConversationStateError("empty message")
    now = timezone.now()
    if channel is None:
        channel = (
            _recent_channels(conversation)[0] if is_internal_note else reply_channel(conversation)
        )
    contact = None
    if not is_internal_note:
        contact = (
            Contact.objects.filter(
                conversation=conversation, channel=channel, ended_at__isnull=True
            )
            .order_by("-started_at")
            .first()
        )
        if contact is None:
            contact = Contact.objects.create(
                brand_id=conversation.brand_id,
                conversation=conversation,
                channel=channel,
                direction=Direction.OUTBOUND,
                started_at=now,
            )
        if contact.first_response_at is None and author_kind != AuthorKind.SYSTEM:
            contact.first_response_at = now
            contact.save(update_fields=["first_response_at"])
    message = Message.objects.create(
        brand_id=conversation.brand_id,
        conversation=conversation,
        contact=contact,
        direction=Direction.OUTBOUND,
        author_kind=author_kind,
        author=author,
        text=mask_card_numbers(text),
        is_internal_note=is_internal_note,
        channel=channel,
        created_at=now,
        quick_replies=quick_replies,
    )
    return message


def can_reply_on(channel: str) -> bool:
    """Whether a written reply reaches the customer on ``channel``.

    Web chat replies travel on the widget's socket and API replies are read by
    the integrator; other channels need a registered sender (a phone call has none).
    """
    return channel in (Channel.WEBCHAT, Channel.API) or sender_for(channel) is not None


def _recent_channels(conversation: Conversation) -> list[str]:
    """The channels the customer wrote from, latest first, then the one that opened it."""
    # Arrival order, not created_at: that is the time the channel claims (a mail's Date).
    recent_inbound = (
        Message.objects.filter(conversation=conversation, direction=Direction.INBOUND)
        .order_by("-pk")
        .values_list("channel", flat=True)[:20]
    )
    return [*recent_inbound, conversation.channel]


def reply_channel(conversation: Conversation) -> str:
    """Replies leave on the channel the customer last wrote from, if a reply can reach them there.

    A conversation opened by a phone call is answered by e-mail when the
    customer has a proven, working address; otherwise the agent is told to call back.
    """
    for channel in _recent_channels(conversation):
        if can_reply_on(channel):
            return channel
    # Only an address the customer proved: one typed in the chat may be anyone's.
    has_address = Identity.objects.filter(
        customer_id=conversation.customer_id,
        kind=IdentityKind.EMAIL,
        verified=True,
        failing_since__isnull=True,
    ).exists()
    if has_address and can_reply_on(Channel.EMAIL):
        return Channel.EMAIL
    raise ConversationStateError(
        "the customer cannot receive a written reply on this channel: call them back"
    )


# The written channels an agent may pick, in the order the reply box lists them.
WRITTEN_CHANNELS = (
    Channel.WEBCHAT,
    Channel.API,
    Channel.EMAIL,
    Channel.WHATSAPP,
    Channel.MESSENGER,
)


@dataclass(frozen=True)
class ReplyOptions:
    """The channels a reply can reach this customer on, and the one picked by default."""

    channels: list[str]
    default: str | None

    @property
    def choices(self) -> list[tuple[str, str]]:
        """``(channel, its name in the reader's language)``, for the reply box."""
        return [(channel, str(Channel(channel).label)) for channel in self.channels]


def reply_options(conversation: Conversation) -> ReplyOptions:
    """Which channels can reach the customer: their identities and what the brand has set up.

    Web chat and the API when the customer wrote from them in this conversation
    (the widget shows the reply there); e-mail with an address that works;
    WhatsApp or Messenger with the customer's id and an active account. The
    default is ``reply_channel``'s choice. A phone call is not a written channel.
    Two queries, plus one per messaging channel the customer has an id on.
    """
    recent = _recent_channels(conversation)
    identities = list(
        Identity.objects.filter(
            customer_id=conversation.customer_id, failing_since__isnull=True
        ).values_list("kind", "verified")
    )
    kinds = {kind for kind, _ in identities}
    channels = []
    for channel in WRITTEN_CHANNELS:
        if channel in (Channel.WEBCHAT, Channel.API):
            reachable = channel in recent
        else:
            reachable = channel in kinds and brand_can_send(channel, conversation.brand_id)
        if reachable:
            channels.append(channel)
    default = next((channel for channel in recent if channel in channels), None)
    if default is None and Channel.EMAIL in channels:
        # Only an address the customer proved: one typed in the chat may be anyone's.
        proven = any(kind == IdentityKind.EMAIL and verified for kind, verified in identities)
        default = Channel.EMAIL if proven else None
    return ReplyOptions(channels=channels, default=default)


def send_reply(
    author: Membership, conversation: Conversation, text: str, *, channel: str | None = None
) -> Message:
    """An agent's reply to the customer, on ``channel`` (None: ``reply_channel``'s choice).

    A chosen channel must be one of ``reply_options``: a ConversationStateError otherwise.
    """
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        if conversation.status == Status.RESOLVED:
            raise ConversationStateError("conversation is resolved; reopen it first")
        if channel is not None and channel not in reply_options(conversation).channels:
            raise ChannelUnreachableError(f"the customer cannot be reached on {channel}")
        message = _outbound_message(
            author, conversation, text, is_internal_note=False, channel=channel
        )
        update_fields = ["last_message_at"]
        conversation.last_message_at = message.created_at
        if conversation.first_response_at is None:
            conversation.first_response_at = message.created_at
            update_fields.append("first_response_at")
        conversation.save(update_fields=update_fields)
        _message_sent(conversation, message, actor=Actor.agent(author))
    return message


def resend_reply(author: Membership, message: Message, channel: str) -> Message:
    """A reply that could not be delivered, sent again as a new reply on another channel."""
    if message.direction != Direction.OUTBOUND or message.is_internal_note:
        raise ConversationStateError("only a reply can be sent again")
    return send_reply(author, message.conversation, message.text, channel=channel)


def send_automatic_message(
    conversation: Conversation,
    text: str,
    *,
    channel: str,
    author_kind: str = AuthorKind.SYSTEM,
    quick_replies: dict | None = None,
) -> Message:
    """A message Comptoir sends by itself (an acknowledgement, …) on ``channel``.

    ``quick_replies``: choices the channel shows as buttons when it can (a survey's scores).

    It is in the timeline like any reply but is not a response by a person:
    it does not count as the conversation's first response. ``author_kind``
    is SYSTEM, or BOT for the assistant's answers; either way no agent acted
    (``actor_id`` None).
    """
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        message = _outbound_message(
            None,
            conversation,
            text,
            is_internal_note=False,
            author_kind=author_kind,
            channel=channel,
            quick_replies=quick_replies,
        )
        _message_sent(conversation, message, actor=BOT if author_kind == AuthorKind.BOT else SYSTEM)
    return message


def _message_sent(conversation: Conversation, message: Message, *, actor: Actor) -> None:
    """Queue the message on its channel and tell agents and the customer's widget."""
    payload = message_event_payload(message, [], conversation)
    append_event(
        conversation.brand_id,
        kinds.MESSAGE_CREATED,
        payload,
        actor=actor,
        conversation=conversation,
        customer=conversation.customer,
        customer_payload=message_customer_payload(message, []),
    )


def add_note(
    author: Membership | None,
    conversation: Conversation,
    text: str,
    *,
    author_kind: str = AuthorKind.AGENT,
) -> Message:
    """An internal note: visible to agents only, never sent to the customer.

    ``author`` is who acted: None with ``author_kind`` BOT for the assistant's
    handoff summary.
    """
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        message = _outbound_message(
            author, conversation, text, is_internal_note=True, author_kind=author_kind
        )
        append_event(
            conversation.brand_id,
            kinds.MESSAGE_CREATED,
            message_payload(message, []),
            actor=Actor.agent_or(author, BOT if author_kind == AuthorKind.BOT else SYSTEM),
            conversation=conversation,
            customer=conversation.customer,
        )
    return message


def raise_priority(
    actor: Membership | None, conversation: Conversation, priority: int
) -> Conversation:
    """Raise the conversation's priority to at least ``priority`` (never lowers it).

    Used by the assistant's handoff for angry or VIP customers (``actor`` None).
    """
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        if conversation.priority >= priority:
            return conversation
        conversation.priority = priority
        conversation.save(update_fields=["priority"])
        conversation_changed(conversation, actor=Actor.agent_or(actor, BOT), status_changed=False)
    return conversation


def set_priority(actor: Membership, conversation: Conversation, priority: int) -> Conversation:
    """A supervisor's or agent's choice of priority, up or down (the router weighs it)."""
    if priority not in Priority.values:
        raise ConversationStateError(f"unknown priority {priority}")
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        if conversation.priority == priority:
            return conversation
        conversation.priority = priority
        conversation.save(update_fields=["priority"])
        conversation_changed(conversation, actor=Actor.agent(actor), status_changed=False)
    return conversation


def resolve_conversation(actor: Membership | None, conversation: Conversation) -> Conversation:
    """The conversation is done: it leaves the inbox; the customer's next message opens another.

    ``actor``: the agent who resolved it (None: Comptoir itself).
    """
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        if conversation.status == Status.RESOLVED:
            raise ConversationStateError("conversation is already resolved")
        now = timezone.now()
        conversation.status = Status.RESOLVED
        conversation.resolved_at = now
        conversation.save(update_fields=["status", "resolved_at"])
        Contact.objects.filter(conversation=conversation, ended_at__isnull=True).update(
            ended_at=now
        )
        conversation_changed(conversation, actor=Actor.agent_or(actor, SYSTEM), status_changed=True)
    return conversation


def mark_pending(actor: Membership | None, conversation: Conversation) -> Conversation:
    """The conversation waits on the customer (an answer, a document): SLA clocks pause.

    It stays in the inbox; the customer's next message makes it open again
    (``ingest``). Refused on a resolved or already pending conversation.
    """
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        if conversation.status != Status.OPEN:
            raise ConversationStateError(f"conversation is {conversation.status}, not open")
        conversation.status = Status.PENDING
        conversation.save(update_fields=["status"])
        conversation_changed(conversation, actor=Actor.agent_or(actor, SYSTEM), status_changed=True)
    return conversation


def reopen_conversation(actor: Membership | None, conversation: Conversation) -> Conversation:
    """A resolved conversation is handled again. ``actor``: who reopened it (None: Comptoir)."""
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        if conversation.status != Status.RESOLVED:
            raise ConversationStateError("conversation is not resolved")
        conversation.status = Status.OPEN
        conversation.resolved_at = None
        conversation.save(update_fields=["status", "resolved_at"])
        conversation_changed(conversation, actor=Actor.agent_or(actor, SYSTEM), status_changed=True)
    return conversation
