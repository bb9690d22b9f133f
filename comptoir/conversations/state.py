"""What every action on a conversation shares: its row lock and the event of a change.

Replies and notes (``actions``), ingest (``ingest``) and assignment
(``comptoir.routing``) all change conversations; they lock and announce
them the same way, from here.
"""

from comptoir.conversations.models import OPEN_STATUSES as OPEN_STATUSES  # re-exported
from comptoir.conversations.models import Conversation
from comptoir.conversations.payloads import conversation_customer_payload, conversation_payload
from comptoir.events import kinds
from comptoir.events.actors import Actor
from comptoir.events.log import append_event


class ConversationStateError(ValueError):
    """The requested change does not apply to the conversation as it is."""


def lock_conversation(conversation: Conversation) -> Conversation:
    """The conversation read again under its row lock, for one change at a time.

    NO KEY: rows that merely reference it (messages, contacts) do not wait.
    """
    return (
        Conversation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("customer__advisor__user", "assignee__user", "team")
        .get(pk=conversation.pk)
    )


def conversation_changed(
    conversation: Conversation,
    *,
    actor: Actor,
    status_changed: bool,
    notify_agent_id: int | None = None,
) -> None:
    """Tell agents; tell the customer only when the status changed (not who handles it).

    ``actor`` is who made the change: an agent, the customer, the assistant or
    Comptoir itself (the event log records it).
    """
    append_event(
        conversation.brand_id,
        kinds.CONVERSATION_UPDATED,
        conversation_payload(conversation),
        actor=actor,
        conversation=conversation,
        customer=conversation.customer,
        customer_payload=conversation_customer_payload(conversation) if status_changed else None,
        notify_agent_id=notify_agent_id,
    )
