from django.apps import AppConfig


class EmailConfig(AppConfig):
    name = "comptoir.touchpoints.email"
    label = "email"
    verbose_name = "E-mail"

    def ready(self) -> None:
        # Replies on the e-mail channel leave through the outbox by SMTP.
        from comptoir.outbox.senders import register_sender
        from comptoir.touchpoints.email.outbound import send_email_delivery

        register_sender("email", send_email_delivery)
