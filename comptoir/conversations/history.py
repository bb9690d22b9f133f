"""Past conversations brought from another help desk, with their original times and authors.

Moving in (``comptoir.moving_in``) calls ``store_past_conversation``: the
customer was found or created by the same identity resolution as live
traffic; here the conversation and its messages are stored as they happened
(timestamps, customer or agent or bot, internal notes, channel, status, tags) and one
``conversation.imported`` event is appended. It is not live traffic: no
``message.created``, so no assistant answer, routing, SLA clock, acknowledgement
or delivery reacts to a message of last year. Card numbers are masked here, as
at ingest. Idempotent per message: one whose ``external_id`` is already stored
in the conversation is left alone, so a second run, or a run resumed after an
interruption, adds only what is missing.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction

from comptoir.conversations.models import (
    Attachment,
    AuthorKind,
    Contact,
    Conversation,
    Direction,
    Message,
    Status,
    Tag,
)
from comptoir.conversations.tags import attach_imported_tags
from comptoir.customers.models import Customer
from comptoir.events import kinds
from comptoir.events.actors import SYSTEM
from comptoir.events.log import append_event
from comptoir.privacy.cards import mask_card_numbers
from comptoir.tenancy.models import Membership


@dataclass(frozen=True)
class PastAttachment:
    """A file of a past message, already through the attachment policy (``moving_in``).

    ``content`` None: the source's export did not hold the file; its name, type and
    size are kept all the same (the console shows them, without a link).
    """

    filename: str
    content_type: str
    size: int
    content: bytes | None = None


@dataclass(frozen=True)
class PastMessage:
    external_id: str  # unique in the brand: "<source>:<id>"
    text: str
    author_kind: str  # AuthorKind
    created_at: datetime
    channel: str
    is_internal_note: bool = False
    author: Membership | None = None  # the agent, when found in the brand
    attachments: tuple[PastAttachment, ...] = ()


@dataclass(frozen=True)
class PastConversation:
    source: str
    external_id: str
    subject: str
    status: str  # Status
    channel: str
    created_at: datetime
    messages: list[PastMessage]
    assignee: Membership | None = None
    resolved_at: datetime | None = None
    tags: tuple[str, ...] = ()  # the source's tags (labels): the brand's tags, created if new


def store_past_conversation(
    customer: Customer,
    past: PastConversation,
    existing: Conversation | None = None,
    *,
    known_tags: dict[str, Tag] | None = None,
) -> tuple[Conversation, int]:
    """The conversation (created unless ``existing``) with the messages it lacked; how many.

    Its tags are the source's (those it carries already stay); ``known_tags``
    is the importer's cache of the brand's tags by key.
    """
    # In the caller's transaction when there is one (the importer's savepoint): no other.
    with transaction.atomic(savepoint=False):
        conversation = existing
        if conversation is not None:
            conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
            new = _not_stored(conversation, past.messages)
        else:
            new = list(past.messages)
            conversation = Conversation(
                brand_id=customer.brand_id,
                customer=customer,
                status=past.status,
                assignee=past.assignee,
                channel=past.channel,
                subject=mask_card_numbers(past.subject)[:200],
                created_at=past.created_at,
                last_message_at=past.created_at,
            )
            # Its times and status known before the insert: no update after.
            _follow_history(conversation, past, new, save=False)
            conversation.save(force_insert=True)
            Contact.objects.create(
                brand_id=customer.brand_id,
                conversation=conversation,
                channel=past.channel,
                started_at=past.created_at,
                ended_at=past.resolved_at,
            )
        created = Message.objects.bulk_create(
            Message(
                brand_id=customer.brand_id,
                conversation=conversation,
                direction=Direction.INBOUND
                if m.author_kind == AuthorKind.CUSTOMER
                else Direction.OUTBOUND,
                author_kind=m.author_kind,
                author=m.author,
                text=mask_card_numbers(m.text),
                is_internal_note=m.is_internal_note,
                channel=m.channel,
                external_id=m.external_id,
                created_at=m.created_at,
            )
            for m in new
        )
        _store_attachments(created, new)
        if existing is not None:
            _follow_history(conversation, past, new)
        attach_imported_tags(conversation, past.tags, known_tags)
        append_event(
            customer.brand_id,
            kinds.CONVERSATION_IMPORTED,
            {
                "conversation_id": conversation.pk,
                "customer_id": customer.pk,
                "source": past.source,
                "external_id": past.external_id,
                "messages_added": len(new),
            },
            actor=SYSTEM,
            conversation=conversation,
            customer=customer,
        )
    return conversation, len(new)


def _not_stored(conversation: Conversation, messages: list[PastMessage]) -> list[PastMessage]:
    """The messages of ``conversation`` not stored yet (a second run, a resumed import).

    Read by the conversation (its index) and compared here: a probe whatever the
    brand holds and whatever the planner's statistics say. A new conversation has
    none: its messages are inserted without a look-up, and one whose id is already
    stored in another conversation of the brand fails the insert (the import
    reports it).
    """
    stored = set(
        Message.objects.filter(conversation=conversation).values_list("channel", "external_id")
    )
    return [m for m in messages if (m.channel, m.external_id) not in stored]


def _store_attachments(messages: list[Message], past: list[PastMessage]) -> None:
    """The past messages' attachments: names masked as at ingest, files saved when given."""
    rows = []
    for message, source in zip(messages, past, strict=True):
        for past_attachment in source.attachments:
            attachment = Attachment(
                brand_id=message.brand_id,
                message=message,
                filename=mask_card_numbers(past_attachment.filename)[:255],
                content_type=past_attachment.content_type[:120],
                size=past_attachment.size,
            )
            if past_attachment.content is not None:
                attachment.file.save("upload", ContentFile(past_attachment.content), save=False)
            rows.append(attachment)
    if rows:
        Attachment.objects.bulk_create(rows)


def _follow_history(
    conversation: Conversation, past: PastConversation, new: list[PastMessage], *, save: bool = True
) -> None:
    """Status, assignee and the times the lists and reports read, as the source had them."""
    times = [m.created_at for m in new]
    if times:
        conversation.last_message_at = max([conversation.last_message_at, *times])
    answers = [
        m.created_at for m in new if m.author_kind == AuthorKind.AGENT and not m.is_internal_note
    ]
    if answers and (
        conversation.first_response_at is None or min(answers) < conversation.first_response_at
    ):
        conversation.first_response_at = min(answers)
    conversation.status = past.status
    if past.assignee is not None:
        conversation.assignee = past.assignee
    conversation.resolved_at = (
        (past.resolved_at or conversation.last_message_at)
        if past.status == Status.RESOLVED
        else None
    )
    if not save:
        return
    conversation.save(
        update_fields=[
            "last_message_at",
            "first_response_at",
            "status",
            "assignee",
            "resolved_at",
        ]
    )
