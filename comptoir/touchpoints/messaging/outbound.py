"""The outbox sender for WhatsApp and Messenger: an agent's reply out through the Graph API.

Called by the outbox worker outside any transaction. Replies leave from the
account the customer wrote to, to the id they wrote from (``MessagingRoute``).
Only text is sent, with its quick replies as the channel's buttons when they fit
(a survey's scores): files attached to a reply are not forwarded (the agent
sees them in the console; the customer does not).
"""

import logging

from comptoir.customers.models import Identity
from comptoir.outbox import failures
from comptoir.outbox.models import Delivery
from comptoir.outbox.senders import DeliveryError
from comptoir.touchpoints.messaging.graph import graph_client
from comptoir.touchpoints.messaging.models import MessagingAccount, MessagingRoute
from comptoir.touchpoints.messaging.providers import provider_for

logger = logging.getLogger(__name__)


def send_messaging_delivery(delivery: Delivery) -> str:
    """Send the delivery's text; the provider's id of the (last) message sent."""
    provider = provider_for(delivery.channel)
    message = delivery.message
    account, recipient_id = reply_route(delivery)
    if not account.access_token:
        raise DeliveryError(
            f"{account} has no access token: replies cannot be sent "
            "(set one in the admin, or MESSAGING_DEMO_API_URL for the demo)",
            permanent=True,
            code=failures.NOT_CONFIGURED,
        )
    chunks = split_text(message.text, provider.max_text)
    if not chunks:
        raise DeliveryError("empty message", permanent=True)
    provider_ids = []
    with graph_client() as client:
        if message.quick_replies and delivery.parts_sent == 0:
            try:
                sent = provider.send_choices(
                    client, account, recipient_id, message.text, message.quick_replies
                )
            except ValueError as error:
                raise DeliveryError(str(error)) from error
            if sent is not None:  # else the choices do not fit: the text alone, with its link
                Delivery.objects.filter(pk=delivery.pk).update(parts_sent=len(chunks))
                return sent
        for number in range(delivery.parts_sent, len(chunks)):
            try:
                provider_ids.append(
                    provider.send_text(client, account, recipient_id, chunks[number])
                )
            except ValueError as error:
                raise DeliveryError(str(error), code=failures.PROVIDER_REFUSED) from error
            # Committed at once (the worker sends outside any transaction): if a later
            # part fails, the retry starts after this one and the customer does not get
            # it twice. Only a crash between the provider's answer and this line can.
            delivery.parts_sent = number + 1
            Delivery.objects.filter(pk=delivery.pk).update(parts_sent=delivery.parts_sent)
    logger.info(
        "%s delivery %s sent from %s as %s",
        delivery.channel,
        delivery.pk,
        account.external_id,
        provider_ids,
    )
    # Nothing left to send (every part went out, then a crash kept it pending): id unknown.
    return provider_ids[-1] if provider_ids else ""


def brand_has_account(channel: str, brand_id: int) -> bool:
    """Whether the brand has an active account to send on ``channel`` (the outbox asks)."""
    return MessagingAccount.objects.filter(
        brand_id=brand_id, provider=channel, is_active=True
    ).exists()


def reply_route(delivery: Delivery) -> tuple[MessagingAccount, str]:
    """The account to send from and the recipient id, or a permanent DeliveryError.

    The route the customer's last message set; failing that (a conversation
    opened on another channel), the brand's account and the customer's id.
    """
    channel = delivery.channel
    route = (
        MessagingRoute.objects.select_related("account")
        .filter(conversation_id=delivery.message.conversation_id, provider=channel)
        .first()
    )
    if route is not None and route.account.is_active:
        return route.account, route.recipient_id
    account = (
        MessagingAccount.objects.filter(
            brand_id=delivery.brand_id, provider=channel, is_active=True
        )
        .order_by("pk")
        .first()
    )
    if account is None:
        raise DeliveryError(
            f"no active {channel} account for this brand",
            permanent=True,
            code=failures.NOT_CONFIGURED,
        )
    recipient_id = (
        Identity.objects.filter(customer_id=delivery.message.conversation.customer_id, kind=channel)
        .order_by("-created_at")
        .values_list("value", flat=True)
        .first()
    )
    if recipient_id is None:
        raise DeliveryError(
            f"the customer has no {channel} id", permanent=True, code=failures.NO_ADDRESS
        )
    return account, recipient_id


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long reply into messages of at most ``limit`` characters, at line or word breaks."""
    text = text.strip()
    chunks = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        chunks.append(text)
    return chunks
