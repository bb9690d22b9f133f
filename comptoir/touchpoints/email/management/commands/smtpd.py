"""``comptoir smtpd``: run the SMTP listener alone (``comptoir serve --smtp`` runs it alongside)."""

import threading

from django.core.management.base import BaseCommand, CommandParser

from comptoir.touchpoints.email.smtp_server import smtp_controller


class Command(BaseCommand):
    help = "Receive mail for the brands' mailboxes over SMTP (no TLS: put it behind your MX)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)

    def handle(self, *args, host: str, port: int, **options) -> None:
        controller = smtp_controller(host, port)
        controller.start()
        self.stdout.write(f"SMTP listener on {host}:{port} (Ctrl-C to stop)")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
