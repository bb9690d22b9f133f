"""``comptoir serve``: run the ASGI application (console, widget, API, WebSockets) under uvicorn."""

import copy

import uvicorn
import uvicorn.config
from django.core.management.base import BaseCommand

from comptoir.outbox.worker import start_worker_thread


def log_config() -> dict:
    """uvicorn's logging, with visitor tokens masked in every line it writes."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {
        "redact_tokens": {"()": "comptoir.realtime.log_redaction.RedactTokensFilter"}
    }
    for handler in config["handlers"].values():
        handler["filters"] = ["redact_tokens"]
    return config


class Command(BaseCommand):
    help = "Serve Comptoir (HTTP and WebSockets) with uvicorn."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--log-level", default="info")
        parser.add_argument(
            "--worker",
            action="store_true",
            help="also send queued replies (e-mail, messaging) from this process",
        )

    def handle(self, *args, host: str, port: int, log_level: str, worker: bool, **options):
        self.stdout.write(f"Comptoir on http://{host}:{port}/console/ (demo shop: /demo/)")
        if worker:
            start_worker_thread()
            self.stdout.write("Delivery worker running in this process")
        uvicorn.run(
            "comptoir.asgi:application",
            host=host,
            port=port,
            log_level=log_level,
            log_config=log_config(),
            lifespan="off",
        )
