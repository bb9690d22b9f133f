"""``comptoir messaging_sandbox``: a local stand-in for the Graph API, for the demo."""

from django.core.management.base import BaseCommand, CommandParser

from comptoir.touchpoints.messaging.demo import DEMO_APP_SECRET
from comptoir.touchpoints.messaging.sandbox import make_server


class Command(BaseCommand):
    help = (
        "Answer WhatsApp/Messenger sends locally and print them; optionally report them "
        "delivered and read to a WhatsApp webhook. Point accounts at it with "
        "MESSAGING_DEMO_API_URL=http://127.0.0.1:PORT/v21.0 before load_demo."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8901)
        parser.add_argument(
            "--status-webhook",
            default="",
            help="e.g. http://127.0.0.1:8000/webhooks/whatsapp/maison-demo",
        )
        parser.add_argument("--app-secret", default=DEMO_APP_SECRET)

    def handle(self, *args, port: int, status_webhook: str, app_secret: str, **options) -> None:
        server = make_server(
            port,
            echo=self.stdout.write,
            status_webhook=status_webhook,
            app_secret=app_secret,
        )
        self.stdout.write(f"Graph API sandbox on http://127.0.0.1:{server.server_address[1]}/v21.0")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
