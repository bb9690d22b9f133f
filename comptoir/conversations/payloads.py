"""What agents and customers are told about messages and conversations.

Agents get the full picture; customers get their own messages and the agents'
replies, never internal notes nor who else is involved.
"""

from typing import Any

from comptoir.conversations.models import Attachment, AuthorKind, Channel, Conversation, Message


def attachment_payload(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
    }


def author_name(message: Message) -> str:
    if message.author_kind == AuthorKind.AGENT and message.author is not None:
        return message.author.display_name
    if message.author_kind == AuthorKind.CUSTOMER:
        return message.conversation.customer.label
    return ""


def message_payload(message: Message, attachments: list[Attachment]) -> dict[str, Any]:
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "author_kind": message.author_kind,
        "author_name": author_name(message),
        "text": message.text,
        "is_internal_note": message.is_internal_note,
        "channel": message.channel,
        "created_at": message.created_at.isoformat(),
        "attachments": [attachment_payload(a) for a in attachments],
    }


def message_event_payload(
    message: Message, attachments: list[Attachment], conversation: Conversation
) -> dict[str, Any]:
    """A message as its ``message.created`` event tells agents: with the conversation's state."""
    payload = message_payload(message, attachments)
    payload["conversation"] = conversation_summary(conversation)
    return payload


def message_customer_payload(
    message: Message, attachments: list[Attachment]
) -> dict[str, Any] | None:
    """What the customer's chat widget may show of a message, or None.

    The widget knows its visitor by a browser token and an e-mail address they
    typed but never proved, so it shows the web chat only: never internal notes,
    nor what was said by e-mail, phone or messaging with whoever owns that address.
    """
    if message.is_internal_note or message.channel != Channel.WEBCHAT:
        return None
    payload = message_payload(message, attachments)
    del payload["is_internal_note"]
    if message.author_kind == AuthorKind.AGENT and message.author is not None:
        # Customers know their advisor by first name, as on the phone.
        payload["author_name"] = message.author.user.first_name or payload["author_name"]
    return payload


def conversation_summary(conversation: Conversation) -> dict[str, Any]:
    """The conversation as message events carry it: ids and state, no names to look up."""
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "customer_id": conversation.customer_id,
        "assignee_id": conversation.assignee_id,
        "channel": conversation.channel,
        "last_message_at": conversation.last_message_at.isoformat(),
    }


def conversation_payload(conversation: Conversation) -> dict[str, Any]:
    """The summary plus the names and priority agents read in the timeline."""
    assignee = conversation.assignee
    return {
        **conversation_summary(conversation),
        "customer_label": str(conversation.customer.label),
        "assignee_name": assignee.display_name if assignee else None,
        "team_id": conversation.team_id,
        "priority": conversation.priority,
    }


def conversation_customer_payload(conversation: Conversation) -> dict[str, Any]:
    return {"id": conversation.pk, "status": conversation.status}
