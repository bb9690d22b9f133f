"""The ``procrastinate`` engine (PostgreSQL): our tasks as Procrastinate tasks.

Queueing goes through Procrastinate's Django connector, i.e. Django's own
connection, so a job is written in the caller's transaction. Workers are
Procrastinate workers (heartbeats, LISTEN/NOTIFY, retries, locks, periodic
jobs); ``retry_stalled_jobs``, itself a periodic task, gives the jobs of a
worker that stopped sending heartbeats (killed, machine lost) to another.
"""

import asyncio
import functools
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import procrastinate
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from procrastinate import exceptions, sql
from procrastinate.contrib.django import app
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.psycopg_connector import PsycopgConnector
from procrastinate.retry import RetryStrategy

from comptoir.tasks.catalogue import AlreadyQueued, periodic_tasks, registered_tasks

if TYPE_CHECKING:
    from comptoir.tasks.registry import Task

logger = logging.getLogger(__name__)


def _in_worker_thread(func: Callable[..., Any]) -> Callable[..., Any]:
    """Procrastinate runs sync tasks in threads: give each run fresh database connections."""

    @functools.wraps(func)
    def run(**kwargs: Any) -> Any:
        kwargs.pop("timestamp", None)  # what Procrastinate passes to periodic tasks
        close_old_connections()
        try:
            return func(**kwargs)
        finally:
            close_old_connections()

    return run


class ProcrastinateBackend:
    name = "procrastinate"

    def _procrastinate_task(self, task: "Task"):
        registered = app.tasks.get(task.name)
        if registered is None:
            retry = (
                RetryStrategy(
                    max_attempts=task.retries, wait=task.retry_wait, linear_wait=task.retry_wait
                )
                if task.retries
                else False
            )
            registered = app.task(name=task.name, queue=task.queue, retry=retry)(
                _in_worker_thread(task.func)
            )
        return registered

    def register_all(self) -> None:
        """Make every task and periodic task known to Procrastinate (before a worker starts)."""
        for task in registered_tasks().values():
            self._procrastinate_task(task)
        for periodic in periodic_tasks():
            app.periodic(cron=periodic.cron)(self._procrastinate_task(periodic.task))

    def enqueue(
        self,
        task: "Task",
        kwargs: dict,
        *,
        run_after: datetime | None,
        lock: str | None,
        queueing_lock: str | None,
    ) -> None:
        deferrer = self._procrastinate_task(task).configure(
            lock=lock, queueing_lock=queueing_lock, schedule_at=run_after
        )
        if queueing_lock is None:
            deferrer.defer(**kwargs)
            return
        try:
            with transaction.atomic():  # a clash must not abort the caller's transaction
                deferrer.defer(**kwargs)
        except exceptions.AlreadyEnqueued:
            raise AlreadyQueued(queueing_lock) from None

    def run_pending(self, limit: int | None = None) -> int:
        """Run due jobs with Procrastinate's own SQL functions, in the caller's connection.

        What ``comptoir worker --once`` and the tests use: it sees jobs queued in
        the caller's uncommitted transaction, which a worker's connection cannot.
        """
        connector = DjangoConnector()
        worker_id = connector.execute_query_one(query=sql.queries["register_worker"])["worker_id"]
        ran = 0
        try:
            while limit is None or ran < limit:
                row = connector.execute_query_one(
                    query=sql.queries["fetch_job"], queues=None, worker_id=worker_id
                )
                if row["id"] is None:
                    break
                self._run_fetched(connector, row)
                ran += 1
        finally:
            connector.execute_query(query=sql.queries["unregister_worker"], worker_id=worker_id)
        return ran

    def _run_fetched(self, connector: DjangoConnector, row: dict[str, Any]) -> None:
        task = registered_tasks().get(row["task_name"])
        try:
            if task is None:
                raise LookupError(f"no task named {row['task_name']!r} in this process")
            # Django's connection hands jsonb back as text (its JSONField parses it).
            args = row["args"]
            kwargs = dict(json.loads(args) if isinstance(args, str) else args)
            kwargs.pop("timestamp", None)
            task(**kwargs)
        except Exception:
            logger.exception("task %s (job %s) failed", row["task_name"], row["id"])
            wait = task.retry_in(row["attempts"]) if task is not None else None
            if wait is not None:
                connector.execute_query(
                    query=sql.queries["retry_job"],
                    job_id=row["id"],
                    retry_at=timezone.now() + timedelta(seconds=wait),
                    new_priority=None,
                    new_queue_name=None,
                    new_lock=None,
                )
                return
            status = "failed"
        else:
            status = "succeeded"
        connector.execute_query(
            query=sql.queries["finish_job"], job_id=row["id"], status=status, delete_job=False
        )

    def retry_stalled_jobs(self) -> int:
        connector = DjangoConnector()
        stalled = connector.execute_query_all(
            query=sql.queries["select_stalled_jobs_by_heartbeat"],
            queue=None,
            task_name=None,
            seconds_since_heartbeat=settings.TASKS_STALLED_AFTER_SECONDS,
        )
        for row in stalled:
            logger.warning("job %s (%s) of a stalled worker: retried", row["id"], row["task_name"])
            connector.execute_query(
                query=sql.queries["retry_job"],
                job_id=row["id"],
                retry_at=timezone.now(),
                new_priority=None,
                new_queue_name=None,
                new_lock=None,
            )
        return len(stalled)

    def run_worker(
        self, *, concurrency: int = 1, queues: list[str] | None = None, in_thread: bool = False
    ) -> None:
        self.register_all()
        options = {
            "queues": queues or None,
            "concurrency": concurrency,
            "update_heartbeat_interval": settings.TASKS_HEARTBEAT_SECONDS,
            "stalled_worker_timeout": settings.TASKS_STALLED_AFTER_SECONDS,
            "delete_jobs": "successful",
            "install_signal_handlers": not in_thread,
        }
        worker = worker_app()

        async def work() -> None:
            async with worker.open_async():
                await worker.run_worker_async(**options)

        if in_thread:
            threading.Thread(
                target=asyncio.run, args=(work(),), name="comptoir-tasks", daemon=True
            ).start()
        else:
            asyncio.run(work())


def worker_app() -> procrastinate.App:
    """An app sharing our tasks but with a connection pool of its own, as workers need.

    The tasks keep the Django app: a job a task queues is written through
    Django's connection, in the task's own transaction.
    """
    worker = procrastinate.App(connector=worker_connector(), worker_defaults=app.worker_defaults)
    worker.tasks = app.tasks
    worker.periodic_registry = app.periodic_registry
    return worker


def worker_connector() -> PsycopgConnector:
    """The workers' connection pool: ``TASKS_DATABASE_URL`` when set, else Django's database.

    A worker LISTENs for new jobs on one of these connections, which a pooler in
    transaction mode (PgBouncer) cannot keep: such a deployment points the
    workers at PostgreSQL directly (docs/deployment.md).
    """
    if settings.TASKS_DATABASE_URL:
        return PsycopgConnector(conninfo=settings.TASKS_DATABASE_URL)
    return app.connector.get_worker_connector()
