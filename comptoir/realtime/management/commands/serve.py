"""``comptoir serve``: run the ASGI application (console, widget, API, WebSockets) under uvicorn."""

import copy

import uvicorn
import uvicorn.config
from django.core.management.base import BaseCommand


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

    def handle(self, *args, host: str, port: int, log_level: str, **options):
        self.stdout.write(f"Comptoir on http://{host}:{port}/console/ (demo shop: /demo/)")
        uvicorn.run(
            "comptoir.asgi:application",
            host=host,
            port=port,
            log_level=log_level,
            log_config=log_config(),
            lifespan="off",
        )
