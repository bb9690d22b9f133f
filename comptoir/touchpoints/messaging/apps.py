from functools import partial

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "comptoir.touchpoints.messaging"
    label = "messaging"
    verbose_name = "Social messaging"

    def ready(self) -> None:
        # Replies on WhatsApp and Messenger leave through the outbox by the Graph API.
        from comptoir.outbox.senders import register_sender
        from comptoir.touchpoints.messaging.outbound import (
            brand_has_account,
            send_messaging_delivery,
        )

        for channel in ("whatsapp", "messenger"):
            register_sender(
                channel,
                send_messaging_delivery,
                configured=partial(brand_has_account, channel),
            )
