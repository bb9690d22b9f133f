"""The one step every stored customer message goes through, whichever path stored it.

A customer's words reach a conversation by ingest (anything written on a
channel) or as a call's transcript (``voice.record_transcript``). Both end
here, in one event with one payload shape, which is what the apps that react
to customer messages listen to (the assistant: ``assistant.listeners``).
Conversations never import those apps.
"""

from comptoir.conversations.models import Attachment, Message
from comptoir.conversations.payloads import (
    message_customer_payload,
    message_event_payload,
)
from comptoir.events import kinds
from comptoir.events.actors import CUSTOMER
from comptoir.events.log import append_event


def announce_customer_message(
    message: Message, attachments: list[Attachment], *, conversation_created: bool = False
) -> None:
    """Tell agents, the customer's widget and listeners that ``message`` was stored.

    Runs in the message's own transaction.

    The event is "conversation.created" when the message opened its
    conversation, else "message.created"; it carries the message with the
    conversation's summary, and what the customer's widget may show of it.
    """
    conversation = message.conversation
    payload = message_event_payload(message, attachments, conversation)
    append_event(
        message.brand_id,
        kinds.CONVERSATION_CREATED if conversation_created else kinds.MESSAGE_CREATED,
        payload,
        actor=CUSTOMER,
        conversation=conversation,
        customer=conversation.customer,
        customer_payload=message_customer_payload(message, attachments),
    )
