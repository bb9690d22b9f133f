"""``comptoir serve``: run the ASGI application (console, widget, API, WebSockets) under uvicorn."""

import copy
import logging
import threading

import uvicorn
import uvicorn.config
from django.conf import settings
from django.core.management.base import BaseCommand

from comptoir.assistant.engine import warm_up_in_background
from comptoir.observability.exposition import forget_process_metrics
from comptoir.tasks.backends import current_backend
from comptoir.tasks.registry import load_all_tasks

logger = logging.getLogger(__name__)

ASSISTANT_QUEUES = ["assistant"]
OTHER_QUEUES = ["default", "outbox"]


def log_config() -> dict:
    """uvicorn's logging, with visitor tokens masked in every line it writes.

    With ``LOG_FORMAT=json`` its lines (access log included) are JSON objects like
    Comptoir's own (``comptoir.observability.logs``).
    """
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {
        "redact_tokens": {"()": "comptoir.realtime.log_redaction.RedactTokensFilter"},
        "request_id": {"()": "comptoir.observability.logs.RequestIdFilter"},
    }
    if settings.LOG_FORMAT == "json":
        json_formatter = {"()": "comptoir.observability.logs.JsonFormatter"}
        config["formatters"] = {"default": json_formatter, "access": json_formatter}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact_tokens", "request_id"]
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
            help="also run background tasks (replies, the assistant, …) in this process",
        )
        parser.add_argument(
            "--smtp",
            metavar="HOST:PORT",
            default="",
            help="also receive mail on this address (e.g. 127.0.0.1:2525)",
        )
        parser.add_argument(
            "--imap",
            action="store_true",
            help="also fetch the mail of mailboxes with an IMAP URL (IDLE, else every 60 s)",
        )

    def say(self, text: str) -> None:
        """A startup line: plain on the terminal, a log record when logs are JSON lines."""
        if settings.LOG_FORMAT == "json":
            logger.info(text)
        else:
            self.stdout.write(text)

    def handle(
        self,
        *args,
        host: str,
        port: int,
        log_level: str,
        worker: bool,
        smtp: str,
        imap: bool,
        **options,
    ):
        self.say(f"Comptoir on http://{host}:{port}/console/ (demo shop: /demo/)")
        # Agent assist (and, with --worker, the assistant) must not wait for the first
        # request to load the language models: they load while the server starts.
        warm_up_in_background()
        if worker:
            load_all_tasks()
            # The assistant's queue apart: a training (seconds, minutes on a busy
            # machine) must not hold back replies, and it runs before the messages
            # queued after it, so that nothing is answered by an untrained model.
            for queues in ASSISTANT_QUEUES, OTHER_QUEUES:
                current_backend().run_worker(in_thread=True, queues=queues)
            self.say("Task workers running in this process")
        smtp_listener = None
        if smtp:
            from comptoir.touchpoints.email.smtp_server import parse_host_port, smtp_controller

            smtp_host, smtp_port = parse_host_port(smtp)
            smtp_listener = smtp_controller(smtp_host, smtp_port)
            smtp_listener.start()
            self.say(f"SMTP listener on {smtp_host}:{smtp_port}")
        imap_stop = threading.Event()
        if imap:
            from comptoir.touchpoints.email.imap import run_imap_watchers

            threading.Thread(
                target=run_imap_watchers,
                args=(imap_stop,),
                kwargs={"interval": 60, "idle": True},
                name="comptoir-imap",
                daemon=True,
            ).start()
            self.say("IMAP watchers running in this process")
        try:
            uvicorn.run(
                "comptoir.asgi:application",
                host=host,
                port=port,
                log_level=log_level,
                log_config=log_config(),
                lifespan="off",
            )
        finally:
            imap_stop.set()
            forget_process_metrics()
            if smtp_listener is not None:
                smtp_listener.stop()
