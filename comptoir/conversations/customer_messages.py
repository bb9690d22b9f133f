"""The one step every stored customer message goes through, whichever path stored it.

A customer's words reach a conversation by ingest (anything written on a
channel) or as a call's transcript (``voice.record_transcript``). Both end
here, so agents are told the same way and the apps that react to customer
messages (the assistant queues a job) are reached from one call site.
Conversations never import those apps: they connect to
``customer_message_stored``, which is sent in the message's own transaction.
"""

from django.dispatch import Signal

from comptoir.conversations.events import append_event
from comptoir.conversations.models import Attachment, Message
from comptoir.conversations.payloads import (
    conversation_summary,
    message_customer_payload,
    message_payload,
)

# Sent with ``sender=Message`` and ``message`` (an inbound customer message, just stored).
customer_message_stored = Signal(use_caching=True)


def announce_customer_message(
    message: Message, attachments: list[Attachment], *, conversation_created: bool = False
) -> None:
    """Tell receivers and agents that ``message`` was stored (in the current transaction).

    The event is "conversation.created" when the message opened its
    conversation, else "message.created"; it carries the message with the
    conversation's summary, and what the customer's widget may show of it.
    """
    conversation = message.conversation
    customer_message_stored.send(sender=Message, message=message)
    payload = message_payload(message, attachments)
    payload["conversation"] = conversation_summary(conversation)
    append_event(
        message.brand_id,
        "conversation.created" if conversation_created else "message.created",
        payload,
        conversation=conversation,
        customer=conversation.customer,
        customer_payload=message_customer_payload(message, attachments),
    )
