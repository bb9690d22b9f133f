"""An outbound message on a channel with a sender leaves through the outbox."""

from comptoir.conversations.models import Direction
from comptoir.events.kinds import MESSAGE_CREATED
from comptoir.events.listeners import on
from comptoir.events.models import Event
from comptoir.outbox.actions import attempt_delivery, start_delivery
from comptoir.outbox.models import DeliveryStatus
from comptoir.outbox.senders import sender_for


def needs_delivery(event: Event) -> bool:
    message = event.payload
    return (
        message["direction"] == Direction.OUTBOUND
        and not message["is_internal_note"]
        and sender_for(message["channel"]) is not None
    )


@on(MESSAGE_CREATED, when=needs_delivery, in_worker=True, queue="outbox")
def deliver_message(event: Event) -> None:
    """Create the message's delivery and make the first attempt (retries are queued by it)."""
    delivery = start_delivery(event.payload["id"])
    if (
        delivery is not None
        and delivery.status == DeliveryStatus.PENDING
        and delivery.attempts == 0
    ):
        attempt_delivery(delivery)
