"""The small interface every messaging provider implements, and the registry of them.

Adding a provider (Telegram, Instagram, a WhatsApp BSP…) is one class with
these five members and one line in ``PROVIDERS``; the webhook views,
``receiving`` and ``outbound`` do not change.
"""

from typing import Protocol

import httpx

from comptoir.touchpoints.messaging.messenger import MessengerProvider
from comptoir.touchpoints.messaging.models import MessagingAccount
from comptoir.touchpoints.messaging.payloads import MediaRef, WebhookBatch
from comptoir.touchpoints.messaging.whatsapp import WhatsAppProvider


class MessagingProvider(Protocol):
    channel: str  # the conversation channel, also MessagingAccount.provider
    webhook_object: str  # the payload's "object" field
    max_text: int  # longest text one message may carry

    def parse_webhook(self, payload: dict) -> WebhookBatch:
        """Messages, statuses and skipped items of a (signed, JSON-decoded) webhook body."""

    def media_url(
        self, client: httpx.Client, account: MessagingAccount, ref: MediaRef
    ) -> tuple[str, dict[str, str]]:
        """The URL to download ``ref`` from and the headers that download needs."""

    def send_text(
        self, client: httpx.Client, account: MessagingAccount, recipient_id: str, text: str
    ) -> str:
        """Send ``text``; the provider's message id. Raises ``DeliveryError``."""

    def send_choices(
        self,
        client: httpx.Client,
        account: MessagingAccount,
        recipient_id: str,
        text: str,
        quick_replies: dict,
    ) -> str | None:
        """Send ``text`` with its quick replies as buttons; None when they do not fit."""


PROVIDERS: dict[str, MessagingProvider] = {
    "whatsapp": WhatsAppProvider(),
    "messenger": MessengerProvider(),
}


def provider_for(channel: str) -> MessagingProvider:
    return PROVIDERS[channel]
