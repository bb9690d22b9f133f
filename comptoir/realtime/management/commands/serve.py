"""``comptoir serve``: run the ASGI application (console, widget, API, WebSockets) under uvicorn."""

import uvicorn
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Comptoir (HTTP and WebSockets) with uvicorn."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--log-level", default="info")

    def handle(self, *args, host: str, port: int, log_level: str, **options):
        self.stdout.write(f"Comptoir on http://{host}:{port}/console/ (demo shop: /demo/)")
        uvicorn.run(
            "comptoir.asgi:application", host=host, port=port, log_level=log_level, lifespan="off"
        )
