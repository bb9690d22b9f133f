"""The one write path for conversations: every state change goes through these actions.

Each action writes in one transaction, appends events and lets
``append_event`` publish them after commit. Views, consumers, API endpoints and
channel adapters only parse input, check permissions and call an action.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from comptoir.conversations.customer_messages import announce_customer_message
from comptoir.conversations.events import append_event
from comptoir.conversations.inbound import IdentityClaim, InboundAttachment, InboundMessage
from comptoir.conversations.ingest_sql import (
    KnownCustomer,
    find_customer_thread,
    insert_customer_message,
    touch_open_conversation,
)
from comptoir.conversations.models import (
    Attachment,
    AuthorKind,
    Channel,
    Contact,
    Conversation,
    Direction,
    Message,
    Status,
)
from comptoir.conversations.payloads import (
    conversation_customer_payload,
    conversation_payload,
    conversation_summary,
    message_customer_payload,
    message_payload,
)
from comptoir.customers.actions import (
    add_identity_if_free,
    clean_display_name,
    create_customer,
    fill_display_name,
    normalise_claims,
)
from comptoir.customers.models import Customer, DuplicateProposal, Identity, IdentityKind
from comptoir.outbox.actions import enqueue_delivery
from comptoir.outbox.senders import sender_for
from comptoir.privacy.cards import mask_card_numbers
from comptoir.tenancy.models import Brand, Membership, Team

OPEN_STATUSES = (Status.OPEN, Status.PENDING)

logger = logging.getLogger(__name__)


class ConversationStateError(ValueError):
    """The requested change does not apply to the conversation as it is."""


class ThreadChanged(Exception):
    """What a message was threaded into changed before it could be used (e.g. resolved)."""


@dataclass(frozen=True)
class IngestResult:
    message: Message
    created: bool
    # The message opened a new conversation (what an acknowledgement answers).
    conversation_created: bool = False


def _existing_delivery(inbound: InboundMessage) -> Message | None:
    try:
        return Message.objects.get(
            brand=inbound.brand, channel=inbound.channel, external_id=inbound.external_id
        )
    except Message.DoesNotExist:
        return None


def ingest_message(inbound: InboundMessage) -> IngestResult:
    """Store a customer's message from any channel, idempotently.

    Pipeline: redact card numbers, recognise the customer, thread into their
    open conversation (or open one), store message and attachments, append
    events. Returns ``created=False`` for a redelivery of a stored message.
    """
    # No look-up before storing: the unique (brand, channel, external_id)
    # constraint refuses a redelivery, and that rare case pays the rollback
    # instead of every message paying a SELECT.
    text = mask_card_numbers(inbound.text)
    attachments = [
        InboundAttachment(mask_card_numbers(a.filename), a.content_type, a.content)
        for a in inbound.attachments
    ]
    try:
        return _ingest_in_transaction(inbound, text, attachments)
    except (IntegrityError, ThreadChanged):
        # A concurrent message created this customer or identity first, or an
        # agent resolved the conversation meanwhile: once more, and the look-up
        # sees the new state (ordered keys, retry on a clash).
        return _ingest_in_transaction(inbound, text, attachments)


def _ingest_in_transaction(
    inbound: InboundMessage, text: str, attachments: list[InboundAttachment]
) -> IngestResult:
    try:
        with transaction.atomic():
            message, conversation_created = _store_inbound(inbound, text, attachments)
            return IngestResult(message, created=True, conversation_created=conversation_created)
    except IntegrityError:
        existing = _existing_delivery(inbound)
        if existing is None:
            raise
        return IngestResult(existing, created=False)


def _customer_thread(
    inbound: InboundMessage,
) -> tuple[Customer, Conversation | None, int | None, Conversation | None]:
    """The sender (found or created), the conversation and open contact to thread into.

    The last item is the resolved conversation a new one ``follows`` (a late reply).
    Without a thread hint: the customer's open conversation. With one: see ``_hinted_thread``.
    """
    brand = inbound.brand
    claims = normalise_claims(inbound.identities, brand)
    claim_keys = [(kind, value) for kind, value, _ in claims]
    known = find_customer_thread(brand.pk, claim_keys, inbound.channel)
    if known is not None and not known.matched_verified and (*known.matched_claim, True) in claims:
        return _claimed_by_its_owner(inbound, claims, known), None, None, None
    if known is None:
        customer = create_customer(
            brand, claims, display_name=inbound.display_name, language=inbound.language
        )
        return customer, None, None, None  # a new customer owns no hinted conversation
    hinted_id = inbound.thread_conversation_id
    follow_hint = hinted_id is not None and (
        known.conversation is None or known.conversation.pk != hinted_id
    )
    if follow_hint or known.conversation is None or known.open_contact_id is None:
        # About to open a conversation or a contact: one message at a time per
        # customer, so that two simultaneous messages do not open two (NO KEY: the
        # foreign-key checks of concurrent inserts must not wait for this lock).
        locked = Customer.objects.select_for_update(no_key=True).filter(pk=known.customer.pk)
        list(locked.values("pk"))
        known = find_customer_thread(brand.pk, claim_keys, inbound.channel)
        if known is None:  # the identity went away meanwhile: start over
            raise ThreadChanged
    for kind, value, verified in claims:
        if (kind, value) not in known.known_claims:
            add_identity_if_free(brand, known.customer, kind, value, verified)
    fill_display_name(known.customer, inbound.display_name)
    if follow_hint:
        hinted = _hinted_thread(inbound, known.customer)
        if hinted is not None:
            return (known.customer, *hinted)
    return known.customer, known.conversation, known.open_contact_id, None


def _claimed_by_its_owner(
    inbound: InboundMessage, claims: list[tuple[str, str, bool]], known: KnownCustomer
) -> Customer:
    """The channel vouches for an identity another customer only typed: its owner takes it.

    A visitor may type anyone's address or number in the widget; when the
    owner then writes from it (a signed WhatsApp id, a mail) they must not land
    in the visitor's file and conversation. The unverified identities the
    sender proves go to a new customer, and the two files are proposed as
    duplicates for an agent to decide (they may well be the same person).
    """
    brand = inbound.brand
    previous = known.customer
    proven = [(kind, value) for kind, value, verified in claims if verified]
    owner = Customer.objects.create(
        brand=brand,
        display_name=clean_display_name(inbound.display_name),
        language=inbound.language[:8],
    )
    moved = 0
    for kind, value in proven:
        moved += Identity.objects.filter(
            brand=brand, customer=previous, kind=kind, value=value, verified=False
        ).update(customer=owner, verified=True)
    if not moved:  # verified meanwhile by an agent: the previous customer keeps it
        raise ThreadChanged
    for kind, value, verified in claims:
        add_identity_if_free(brand, owner, kind, value, verified)
    a, b = sorted((previous.pk, owner.pk))
    DuplicateProposal.objects.get_or_create(
        customer_a_id=a,
        customer_b_id=b,
        defaults={
            "brand": brand,
            "score": 0.9,
            "reasons": [{"code": "claimed_identity", "detail": ", ".join(map(":".join, proven))}],
        },
    )
    append_event(
        brand,
        "customer.identity_claimed",
        {"from_customer_id": previous.pk, "to_customer_id": owner.pk, "identities": proven},
        customer=previous,
    )
    return owner


def _hinted_thread(
    inbound: InboundMessage, customer: Customer
) -> tuple[Conversation | None, int | None, Conversation | None] | None:
    """Thread into the conversation the channel named, if it is this customer's own.

    An open one is used as is; a resolved one is reopened within
    ``inbound.reopen_window`` (measured to now: a mail's Date can be forged),
    otherwise a new conversation ``follows`` it. A hint naming another brand's
    or another customer's conversation (forged, or a colleague writing from
    another address) is ignored: None, and the message threads as if unhinted.
    Runs with the customer locked.
    """
    conversation = (
        Conversation.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk=inbound.thread_conversation_id, brand=inbound.brand, customer=customer)
        .first()
    )
    if conversation is None:
        logger.warning(
            "thread hint #%s ignored: not a conversation of customer %s in brand %s",
            inbound.thread_conversation_id,
            customer.pk,
            inbound.brand.pk,
        )
        return None
    conversation.customer = customer
    if conversation.status in OPEN_STATUSES:
        contact_id = (
            Contact.objects.filter(
                conversation=conversation, channel=inbound.channel, ended_at__isnull=True
            )
            .order_by("-started_at")
            .values_list("pk", flat=True)
            .first()
        )
        return conversation, contact_id, None
    window = inbound.reopen_window
    resolved_at = conversation.resolved_at
    if window is not None and resolved_at is not None and timezone.now() - resolved_at <= window:
        conversation.status = Status.OPEN
        conversation.resolved_at = None
        conversation.save(update_fields=["status", "resolved_at"])
        _conversation_changed(conversation, status_changed=True)
        return conversation, None, None
    return None, None, conversation


def _store_inbound(
    inbound: InboundMessage, text: str, attachments: list[InboundAttachment]
) -> tuple[Message, bool]:
    """Store the message; returns it and whether it opened a new conversation."""
    # The channel's own time (a mail's Date, a provider timestamp), never in the future:
    # a skewed or forged clock must not pin a message below everything that follows.
    now = min(inbound.received_at or timezone.now(), timezone.now())
    brand = inbound.brand
    customer, conversation, contact_id, follows = _customer_thread(inbound)
    conversation_created = conversation is None
    if conversation is None:
        subject = mask_card_numbers(inbound.subject.strip())[:200]
        conversation = Conversation.objects.create(
            brand=brand,
            customer=customer,
            channel=inbound.channel,
            subject=subject or (text[:120].splitlines()[0] if text.strip() else ""),
            created_at=now,
            last_message_at=now,
            follows=follows,
        )
    if contact_id is None:
        contact_id = Contact.objects.create(
            brand=brand, conversation=conversation, channel=inbound.channel, started_at=now
        ).pk
    if not conversation_created and not touch_open_conversation(conversation, now):
        raise ThreadChanged
    message = Message(
        brand=brand,
        conversation=conversation,
        contact_id=contact_id,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CUSTOMER,
        text=text,
        channel=inbound.channel,
        external_id=inbound.external_id,
        created_at=now,
    )
    insert_customer_message(message)
    stored = _store_attachments(message, attachments)
    announce_customer_message(message, stored, conversation_created=conversation_created)
    return message, conversation_created


def _store_attachments(message: Message, attachments: list[InboundAttachment]) -> list[Attachment]:
    stored = []
    for inbound in attachments:
        attachment = Attachment(
            brand_id=message.brand_id,
            message=message,
            filename=inbound.filename[:255] or "file",
            content_type=inbound.content_type[:120],
            size=len(inbound.content),
        )
        attachment.file.save("upload", ContentFile(inbound.content), save=False)
        attachment.save()
        stored.append(attachment)
    return stored


@dataclass(frozen=True)
class OpenedContact:
    contact: Contact
    conversation_created: bool


def open_contact(
    brand: Brand,
    claims: list[IdentityClaim],
    channel: str,
    direction: str,
    started_at: datetime | None = None,
    display_name: str = "",
) -> OpenedContact:
    """Open a new contact, without a message, on the customer's open conversation (or a new one).

    For episodes that begin before anyone writes: a phone call. The customer is
    recognised from ``claims`` exactly as ``ingest_message`` does (and created
    if unknown). Must run inside a transaction; like ingest, it may raise
    IntegrityError or ThreadChanged on a concurrent change: the caller retries.
    The caller appends the events (it knows what the contact is about).
    """
    started_at = started_at or timezone.now()
    probe = InboundMessage(
        brand=brand,
        channel=channel,
        external_id="",
        text="",
        identities=claims,
        display_name=display_name,
    )
    customer, conversation, _, follows = _customer_thread(probe)
    conversation_created = conversation is None
    if conversation is None:
        conversation = Conversation.objects.create(
            brand=brand,
            customer=customer,
            channel=channel,
            created_at=started_at,
            last_message_at=timezone.now(),
            follows=follows,
        )
    elif not touch_open_conversation(conversation, timezone.now()):
        raise ThreadChanged
    contact = Contact.objects.create(
        brand=brand,
        conversation=conversation,
        channel=channel,
        direction=direction,
        started_at=started_at,
    )
    return OpenedContact(contact, conversation_created)


def _outbound_message(
    author: Membership | None,
    conversation: Conversation,
    text: str,
    *,
    is_internal_note: bool,
    author_kind: str = AuthorKind.AGENT,
    channel: str | None = None,
) -> Message:
    if not text.strip():
        raise ConversationStateError("empty message")
    now = timezone.now()
    if channel is None:
        channel = (
            _recent_channels(conversation)[0] if is_internal_note else _reply_channel(conversation)
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


def _reply_channel(conversation: Conversation) -> str:
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


def send_reply(author: Membership, conversation: Conversation, text: str) -> Message:
    """An agent's reply to the customer, delivered on the conversation's current channel."""
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.status == Status.RESOLVED:
            raise ConversationStateError("conversation is resolved; reopen it first")
        message = _outbound_message(author, conversation, text, is_internal_note=False)
        update_fields = ["last_message_at"]
        conversation.last_message_at = message.created_at
        if conversation.first_response_at is None:
            conversation.first_response_at = message.created_at
            update_fields.append("first_response_at")
        conversation.save(update_fields=update_fields)
        _message_sent(conversation, message)
    return message


def send_automatic_message(
    conversation: Conversation,
    text: str,
    *,
    channel: str,
    author_kind: str = AuthorKind.SYSTEM,
) -> Message:
    """A message Comptoir sends by itself (an acknowledgement, …) on ``channel``.

    It is in the timeline like any reply but is not a response by a person:
    it does not count as the conversation's first response. ``author_kind``
    is SYSTEM, or BOT for the assistant's answers.
    """
    with transaction.atomic():
        conversation = _locked(conversation)
        message = _outbound_message(
            None,
            conversation,
            text,
            is_internal_note=False,
            author_kind=author_kind,
            channel=channel,
        )
        _message_sent(conversation, message)
    return message


def _message_sent(conversation: Conversation, message: Message) -> None:
    """Queue the message on its channel and tell agents and the customer's widget."""
    enqueue_delivery(message)
    payload = message_payload(message, [])
    payload["conversation"] = conversation_summary(conversation)
    append_event(
        conversation.brand_id,
        "message.created",
        payload,
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

    ``author`` is None with ``author_kind`` BOT for the assistant's handoff summary.
    """
    with transaction.atomic():
        conversation = _locked(conversation)
        message = _outbound_message(
            author, conversation, text, is_internal_note=True, author_kind=author_kind
        )
        append_event(
            conversation.brand_id,
            "message.created",
            message_payload(message, []),
            conversation=conversation,
            customer=conversation.customer,
        )
    return message


def _locked(conversation: Conversation) -> Conversation:
    return (
        Conversation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("customer__advisor__user", "assignee__user", "team")
        .get(pk=conversation.pk)
    )


def _conversation_changed(
    conversation: Conversation, *, status_changed: bool, notify_agent_id: int | None = None
) -> None:
    """Tell agents; tell the customer only when the status changed (not who handles it)."""
    append_event(
        conversation.brand_id,
        "conversation.updated",
        conversation_payload(conversation),
        conversation=conversation,
        customer=conversation.customer,
        customer_payload=conversation_customer_payload(conversation) if status_changed else None,
        notify_agent_id=notify_agent_id,
    )


def assign_conversation(
    actor: Membership, conversation: Conversation, assignee: Membership | None
) -> Conversation:
    """Give the conversation to ``assignee`` (None: back to the unassigned queue)."""
    if assignee is not None and (
        assignee.brand_id != conversation.brand_id or not assignee.is_active
    ):
        raise ConversationStateError("assignee is not an active agent of this brand")
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.assignee_id == (assignee.pk if assignee else None):
            return conversation
        conversation.assignee = assignee
        conversation.save(update_fields=["assignee"])
        _conversation_changed(
            conversation, status_changed=False, notify_agent_id=assignee.pk if assignee else None
        )
    return conversation


class Routing(StrEnum):
    """Where ``route_to_person`` sent a conversation."""

    ADVISOR = "advisor"
    TEAM = "team"
    # The team's least busy available member (``Team.auto_assign``).
    TEAM_MEMBER = "team_member"
    QUEUE = "queue"
    ALREADY_ASSIGNED = "assigned"


def route_to_person(conversation: Conversation, team: Team | None = None) -> Routing:
    """Send a conversation a person must take over (the assistant's handoff) to someone.

    The customer's own advisor first, when they are available (active, console
    open and not marked away, ``Membership.is_available``): customers want one
    interlocutor who knows them, but not to wait for one who is away. Otherwise
    the team that handles what they asked about: a team with ``auto_assign``
    gives it at once to its least busy available member (``_least_busy_member``),
    any other team, or one with nobody available, lets it wait in its queue ("My
    teams" in the console); else the brand's unassigned queue. A conversation an
    agent already holds stays with them.
    """
    if team is not None and team.brand_id != conversation.brand_id:
        raise ConversationStateError("team belongs to another brand")
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.assignee_id is not None:
            return Routing.ALREADY_ASSIGNED
        advisor = conversation.customer.advisor
        if advisor is not None and not advisor.is_available():
            advisor = None
        member = None
        if advisor is None and team is not None and team.auto_assign:
            member = _least_busy_member(team, conversation.brand_id)
        assignee = advisor or member
        if assignee is None and (team is None or conversation.team_id == team.pk):
            return Routing.QUEUE if team is None else Routing.TEAM
        if assignee is not None:
            conversation.assignee = assignee
        if team is not None:
            conversation.team = team
        conversation.save(update_fields=["assignee", "team"])
        _conversation_changed(
            conversation,
            status_changed=False,
            notify_agent_id=assignee.pk if assignee is not None else None,
        )
    if advisor is not None:
        return Routing.ADVISOR
    return Routing.TEAM_MEMBER if member is not None else Routing.TEAM


def _least_busy_member(team: Team, brand_id: int) -> Membership | None:
    """The team's available member holding the fewest open conversations of the brand.

    Open means not resolved (``OPEN_STATUSES``, as the console's *Mine* tab counts);
    another brand's conversations never count. Ties go to the member whose latest
    conversation of the brand is the oldest (none at all first): with no assignment
    time stored, the highest id of the conversations assigned to them (resolved ones
    too) stands for "assigned most recently", so that members who close their
    conversations quickly still take turns instead of the same one getting every tie;
    then the lowest membership id. One query for the members and their loads;
    availability is ``Membership.is_available``.
    """
    held = Q(assigned_conversations__brand_id=brand_id)
    members = (
        team.members.filter(brand_id=brand_id)
        .select_related("user")
        .annotate(
            load=Count(
                "assigned_conversations",
                filter=held & Q(assigned_conversations__status__in=OPEN_STATUSES),
            ),
            latest=Max("assigned_conversations__id", filter=held),
        )
        .order_by("load", F("latest").asc(nulls_first=True), "pk")
    )
    now = timezone.now()
    return next((member for member in members if member.is_available(now)), None)


def raise_priority(conversation: Conversation, priority: int) -> Conversation:
    """Raise the conversation's priority to at least ``priority`` (never lowers it).

    Used by the assistant's handoff for angry or VIP customers.
    """
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.priority >= priority:
            return conversation
        conversation.priority = priority
        conversation.save(update_fields=["priority"])
        _conversation_changed(conversation, status_changed=False)
    return conversation


def resolve_conversation(actor: Membership, conversation: Conversation) -> Conversation:
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.status == Status.RESOLVED:
            raise ConversationStateError("conversation is already resolved")
        now = timezone.now()
        conversation.status = Status.RESOLVED
        conversation.resolved_at = now
        conversation.save(update_fields=["status", "resolved_at"])
        Contact.objects.filter(conversation=conversation, ended_at__isnull=True).update(
            ended_at=now
        )
        _conversation_changed(conversation, status_changed=True)
    return conversation


def reopen_conversation(actor: Membership, conversation: Conversation) -> Conversation:
    with transaction.atomic():
        conversation = _locked(conversation)
        if conversation.status != Status.RESOLVED:
            raise ConversationStateError("conversation is not resolved")
        conversation.status = Status.OPEN
        conversation.resolved_at = None
        conversation.save(update_fields=["status", "resolved_at"])
        _conversation_changed(conversation, status_changed=True)
    return conversation
