"""A mail that opens a conversation gets an acknowledgement, if its mailbox sends them."""

from comptoir.conversations.models import AuthorKind, Channel, Conversation
from comptoir.events.kinds import MAIL_RECEIVED
from comptoir.events.listeners import on
from comptoir.events.models import Event
from comptoir.touchpoints.email.acknowledgement import acknowledge
from comptoir.touchpoints.email.models import Mailbox


def opened_a_conversation(event: Event) -> bool:
    return event.payload["conversation_created"] and event.payload["mailbox_id"] is not None


@on(MAIL_RECEIVED, when=opened_a_conversation, in_worker=True, retries=3)
def acknowledge_new_conversation(event: Event) -> None:
    mailbox = Mailbox.objects.filter(pk=event.payload["mailbox_id"], acknowledge=True).first()
    conversation = (
        Conversation.objects.select_related("customer", "brand")
        .filter(pk=event.payload["conversation_id"])
        .first()
    )
    if mailbox is None or conversation is None:
        return  # switched off or deleted since
    if conversation.messages.filter(author_kind=AuthorKind.SYSTEM, channel=Channel.EMAIL).exists():
        return  # acknowledged by an earlier run of this job (its worker died after sending)
    acknowledge(conversation, mailbox)
