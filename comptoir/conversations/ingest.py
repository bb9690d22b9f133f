"""Ingest: what customers send, stored once and threaded into the right conversation.

``ingest_message`` is the one write path of every channel's inbound messages;
``open_contact`` opens a contact that starts without a message (a phone call).
Both ask ``customers.resolution`` once who the sender is, with a look-up
that also brings the customer's open thread (one query,
``ingest_sql.find_customer_threads``), then thread by themselves: the
customer's open conversation and contact, the conversation a channel hints
at, or new ones.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from comptoir.conversations.customer_messages import announce_customer_message
from comptoir.conversations.inbound import IdentityClaim, InboundAttachment, InboundMessage
from comptoir.conversations.ingest_sql import (
    OpenThread,
    find_customer_threads,
    insert_customer_message,
    touch_open_conversation,
)
from comptoir.conversations.models import (
    Attachment,
    AuthorKind,
    Contact,
    Conversation,
    Direction,
    Message,
    Status,
)
from comptoir.conversations.state import OPEN_STATUSES, conversation_changed
from comptoir.customers.lookup import IdentityMatch
from comptoir.customers.models import Customer
from comptoir.customers.resolution import (
    IdentityChanged,
    Resolution,
    create_customer_without_identity,
    resolve_claims,
)
from comptoir.events.actors import CUSTOMER
from comptoir.observability.metrics import MESSAGES_INGESTED
from comptoir.privacy.cards import mask_card_numbers
from comptoir.tenancy.models import Brand

logger = logging.getLogger(__name__)


class ThreadChanged(Exception):
    """What a message was threaded into changed before it could be used (e.g. resolved)."""


@dataclass(frozen=True)
class IngestResult:
    message: Message
    created: bool
    # The message opened a new conversation (what an acknowledgement answers).
    conversation_created: bool = False


@dataclass(frozen=True)
class Thread:
    """Where a customer's message or contact goes: what exists of it, and what it follows."""

    customer: Customer
    # None: open a new conversation.
    conversation: Conversation | None = None
    # None: open a new contact on the conversation.
    open_contact_id: int | None = None
    # The resolved conversation a new one follows (a late reply to it).
    follows: Conversation | None = None


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
        result = _ingest_in_transaction(inbound, text, attachments)
    except (IntegrityError, ThreadChanged):
        # A concurrent message created this customer or identity first, or an
        # agent resolved the conversation meanwhile: once more, and the look-up
        # sees the new state (ordered keys, retry on a clash).
        result = _ingest_in_transaction(inbound, text, attachments)
    if result.created:
        MESSAGES_INGESTED.labels(channel=inbound.channel).inc()
    return result


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


def _resolve_sender(
    brand: Brand,
    claims: list[IdentityClaim],
    channel: str,
    *,
    display_name: str,
    language: str,
    hinted_id: int | None,
) -> Resolution:
    """The customer behind ``claims``, each match with its open thread on ``channel``.

    The customer is locked when something is about to be opened for them (see
    ``_opens_something``). A concurrent change to their identities is, for
    ingest, one more way the thread changed: the caller starts over.
    """
    try:
        return resolve_claims(
            brand,
            claims,
            display_name=display_name,
            language=language,
            lookup=lambda keys: find_customer_threads(brand.pk, keys, channel),
            lock_if=lambda match: _opens_something(match, hinted_id),
        )
    except IdentityChanged as changed:
        raise ThreadChanged from changed


def _opens_something(match: IdentityMatch, hinted_id: int | None) -> bool:
    """About to open a conversation or a contact for the customer, or to follow a hint.

    One message at a time per customer then, so that two simultaneous messages
    do not open two.
    """
    thread: OpenThread = match.thread
    return (
        _follows_hint(thread, hinted_id)
        or thread.conversation is None
        or thread.open_contact_id is None
    )


def _follows_hint(thread: OpenThread, hinted_id: int | None) -> bool:
    """The channel names a conversation other than the customer's open one."""
    return hinted_id is not None and (
        thread.conversation is None or thread.conversation.pk != hinted_id
    )


def _inbound_thread(inbound: InboundMessage) -> Thread:
    """The sender (found or created) and where their message goes.

    Without a thread hint: the customer's open conversation. With one: see ``_hinted_thread``.
    """
    if inbound.sender_unconfirmed:
        return Thread(
            create_customer_without_identity(
                inbound.brand, display_name=inbound.display_name, language=inbound.language
            )
        )
    hinted_id = inbound.thread_conversation_id
    resolution = _resolve_sender(
        inbound.brand,
        inbound.identities,
        inbound.channel,
        display_name=inbound.display_name,
        language=inbound.language,
        hinted_id=hinted_id,
    )
    customer = resolution.customer
    if resolution.match is None:  # a customer created just now owns no conversation yet
        return Thread(customer)
    thread: OpenThread = resolution.match.thread
    if _follows_hint(thread, hinted_id):
        hinted = _hinted_thread(inbound, customer)
        if hinted is not None:
            return hinted
    return Thread(customer, thread.conversation, thread.open_contact_id)


def _hinted_thread(inbound: InboundMessage, customer: Customer) -> Thread | None:
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
        return Thread(customer, conversation, contact_id)
    window = inbound.reopen_window
    resolved_at = conversation.resolved_at
    if window is not None and resolved_at is not None and timezone.now() - resolved_at <= window:
        conversation.status = Status.OPEN
        conversation.resolved_at = None
        conversation.save(update_fields=["status", "resolved_at"])
        # The customer reopened it by writing: no agent did.
        conversation_changed(conversation, actor=CUSTOMER, status_changed=True)
        return Thread(customer, conversation)
    return Thread(customer, follows=conversation)


def _store_inbound(
    inbound: InboundMessage, text: str, attachments: list[InboundAttachment]
) -> tuple[Message, bool]:
    """Store the message; returns it and whether it opened a new conversation."""
    # The channel's own time (a mail's Date, a provider timestamp), never in the future:
    # a skewed or forged clock must not pin a message below everything that follows.
    now = min(inbound.received_at or timezone.now(), timezone.now())
    brand = inbound.brand
    thread = _inbound_thread(inbound)
    customer = thread.customer
    conversation, contact_id = thread.conversation, thread.open_contact_id
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
            follows=thread.follows,
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
    resolution = _resolve_sender(
        brand, claims, channel, display_name=display_name, language="", hinted_id=None
    )
    conversation = resolution.match.thread.conversation if resolution.match else None
    conversation_created = conversation is None
    if conversation is None:
        conversation = Conversation.objects.create(
            brand=brand,
            customer=resolution.customer,
            channel=channel,
            created_at=started_at,
            last_message_at=timezone.now(),
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
