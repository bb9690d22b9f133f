"""The messages of a spoken contact (a phone call): its summary line and the customer's words.

A call is a contact opened without a message (``ingest.open_contact``). The
timeline shows it by one system line that the phone channel keeps up to date
as the call moves on, and what the customer said (a voicemail, or the call as
the provider transcribed it) becomes their message on that contact, which
goes through the same step as a written one (``announce_customer_message``).
These actions write in the caller's transaction.
"""

from datetime import datetime

from comptoir.conversations.customer_messages import announce_customer_message
from comptoir.conversations.models import AuthorKind, Contact, Direction, Message
from comptoir.conversations.payloads import (
    message_event_payload,
)
from comptoir.events import kinds
from comptoir.events.actors import SYSTEM
from comptoir.events.log import append_event
from comptoir.privacy.cards import mask_card_numbers


def add_summary_line(
    contact: Contact, text: str, *, external_id: str, created_at: datetime
) -> Message:
    """The system line that stands for the contact in the timeline, the inbox and search.

    No event: the channel announces the contact itself (its own event carries
    what the console draws), and this line with it when it opens a conversation.
    """
    return Message.objects.create(
        brand_id=contact.brand_id,
        conversation=contact.conversation,
        contact=contact,
        direction=contact.direction,
        author_kind=AuthorKind.SYSTEM,
        text=text,
        channel=contact.channel,
        external_id=external_id[:255],
        created_at=created_at,
    )


def update_summary_line(summary: Message, text: str) -> None:
    """Rewrite the summary line as the contact moved on; announced with the contact, as above."""
    summary.text = text
    summary.save(update_fields=["text"])


def record_transcript(
    contact: Contact, text: str, *, external_id: str, created_at: datetime
) -> Message:
    """What the customer said on ``contact``, as their message (searchable, in the timeline).

    The first transcript is a new customer message, announced like any other
    (the assistant classifies it; it never answers on the phone). A later one
    for the same ``external_id`` replaces the text: "message.updated".
    """
    text = mask_card_numbers(text)
    external_id = external_id[:255]
    conversation = contact.conversation
    message = Message.objects.filter(
        brand_id=contact.brand_id, channel=contact.channel, external_id=external_id
    ).first()
    if message is None:
        message = Message.objects.create(
            brand_id=contact.brand_id,
            conversation=conversation,
            contact=contact,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CUSTOMER,
            text=text,
            channel=contact.channel,
            external_id=external_id,
            created_at=created_at,
        )
        announce_customer_message(message, [])
        return message
    message.text = text
    message.save(update_fields=["text"])
    payload = message_event_payload(message, [], conversation)
    append_event(
        contact.brand_id,
        kinds.MESSAGE_UPDATED,
        payload,
        actor=SYSTEM,
        conversation=conversation,
        customer=conversation.customer,
    )
    return message
