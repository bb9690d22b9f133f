from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "comptoir.touchpoints.messaging"
    label = "messaging"
    verbose_name = "Social messaging"

    def ready(self) -> None:
        # Replies on WhatsApp and Messenger leave through the outbox by the Graph API.
        from comptoir.outbox.senders import register_sender
        from comptoir.touchpoints.messaging.outbound import send_messaging_delivery

        register_sender("whatsapp", send_messaging_delivery)
        register_sender("messenger", send_messaging_delivery)
