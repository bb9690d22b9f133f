"""What the assistant does when something happens: answer customers, retrain on new intents."""

from comptoir.assistant.enabled_brands import assistant_enabled_for
from comptoir.assistant.engine import train_brand
from comptoir.assistant.jobs import MAX_ATTEMPTS, handle_customer_message
from comptoir.conversations.models import AuthorKind, Direction
from comptoir.events.kinds import ASSISTANT_INTENTS_CHANGED, CONVERSATION_CREATED, MESSAGE_CREATED
from comptoir.events.listeners import on
from comptoir.events.models import Event


def is_customer_message_for_assistant(event: Event) -> bool:
    """A customer's words (a call transcript too: classified only) in a brand using the assistant.

    Runs inside ingest's transaction for every message: no query (the enabled
    brands are cached per process).
    """
    message = event.payload
    return (
        message["direction"] == Direction.INBOUND
        and message["author_kind"] == AuthorKind.CUSTOMER
        and assistant_enabled_for(event.brand_id)
    )


@on(
    [CONVERSATION_CREATED, MESSAGE_CREATED],
    when=is_customer_message_for_assistant,
    in_worker=True,
    # One message at a time per conversation, in arrival order: never a second
    # answer before the first, nor two at once.
    lock=lambda event: f"conversation:{event.conversation_id}",
    retries=MAX_ATTEMPTS - 1,
    queue="assistant",
)
def answer_customer(event: Event) -> None:
    handle_customer_message(event.payload["id"])


@on(
    ASSISTANT_INTENTS_CHANGED,
    in_worker=True,
    # Two changes in a row train one after the other; the second finds nothing new.
    lock=lambda event: f"training:{event.brand_id}",
    queue="assistant",
)
def retrain(event: Event) -> None:
    train_brand(event.brand_id)
