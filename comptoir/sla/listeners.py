"""SLA clocks follow the conversation's events: openings, messages, status changes."""

from comptoir.conversations.models import AuthorKind, Direction
from comptoir.events.kinds import CONVERSATION_CREATED, CONVERSATION_UPDATED, MESSAGE_CREATED
from comptoir.events.listeners import on
from comptoir.events.models import Event
from comptoir.sla import clocks
from comptoir.sla.brands import brand_measures_sla


def moves_a_clock(event: Event) -> bool:
    """An event that may start, stop, pause or resume a clock, in a brand with SLA policies.

    Runs inside the event's transaction for every message: no query (the brands
    with policies are cached per process). Notes, the assistant's answers and
    automatic messages never move a clock.
    """
    if event.conversation_id is None or not brand_measures_sla(event.brand_id):
        return False
    if event.kind == CONVERSATION_UPDATED.name:
        return True
    message = event.payload
    if message.get("is_internal_note"):
        return False
    return (
        message["direction"] == Direction.INBOUND and message["author_kind"] == AuthorKind.CUSTOMER
    ) or (message["direction"] == Direction.OUTBOUND and message["author_kind"] == AuthorKind.AGENT)


@on(
    [CONVERSATION_CREATED, MESSAGE_CREATED, CONVERSATION_UPDATED],
    when=moves_a_clock,
    in_worker=True,
    # One event at a time per conversation, in the order they happened.
    lock=lambda event: f"sla:{event.conversation_id}",
    retries=3,
)
def follow_conversation(event: Event) -> None:
    clocks.apply_event(event)
