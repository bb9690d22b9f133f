"""``comptoir worker``: run background tasks (deliveries, the assistant, periodic jobs)."""

from importlib import import_module

from django.core.management.base import BaseCommand
from prometheus_client import start_http_server

from comptoir.assistant.engine import warm_up_in_background
from comptoir.tasks import load_all_tasks, run_pending
from comptoir.tasks.backends import current_backend


class Command(BaseCommand):
    help = "Run queued background tasks until stopped (or the due ones once with --once)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--concurrency", type=int, default=1, help="jobs run at once by this process"
        )
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            default=None,
            help="only this queue (repeatable; default: every queue)",
        )
        parser.add_argument("--once", action="store_true", help="run the jobs due now, then exit")
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=None,
            help="serve this worker's Prometheus metrics on this port (of --metrics-host)",
        )
        parser.add_argument(
            "--metrics-host",
            default="127.0.0.1",
            help="address of --metrics-port (unauthenticated: keep it private)",
        )
        parser.add_argument(
            "--import",
            action="append",
            dest="modules",
            default=[],
            metavar="MODULE",
            help="also import this module's tasks (repeatable)",
        )

    def handle(
        self,
        *args,
        concurrency: int,
        queues: list[str] | None,
        once: bool,
        modules: list[str],
        metrics_port: int | None,
        metrics_host: str,
        **options,
    ):
        load_all_tasks()
        for module in modules:
            import_module(module)
        if once:
            self.stdout.write(f"{run_pending()} jobs run")
            return
        # The assistant's models load while the worker starts taking jobs, not on the first one.
        warm_up_in_background()
        if metrics_port is not None:
            # What a worker counts (events it publishes, messages its tasks ingest).
            # Queue depth and failed deliveries are read from the database by the web
            # processes' /metrics.
            start_http_server(metrics_port, addr=metrics_host)
        backend = current_backend()
        self.stdout.write(f"Worker on the {backend.name} engine, concurrency {concurrency}")
        backend.run_worker(concurrency=concurrency, queues=queues)
