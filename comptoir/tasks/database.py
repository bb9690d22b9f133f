"""The ``database`` engine: jobs in the ``TaskJob`` table, run by threads of this process.

For the embedded SQLite set-up (``make demo``): no server to run, and a job
queued in a transaction survives a restart like any other row. It keeps
Procrastinate's rules: jobs sharing a ``lock`` run one at a time in queueing
order, a failed job is retried after its task's wait, a run whose worker died
(``started_at`` older than ``TASKS_DATABASE_LEASE_SECONDS``: no heartbeats here) is run
again.
"""

import json
import logging
import threading
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from croniter import croniter
from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from comptoir.tasks.catalogue import AlreadyQueued, periodic_tasks, registered_tasks
from comptoir.tasks.models import JobStatus, TaskJob

if TYPE_CHECKING:
    from comptoir.tasks.registry import Task

logger = logging.getLogger(__name__)

_TABLE = TaskJob._meta.db_table
# Procrastinate's rule: a job with a lock waits while a job with the same lock runs
# or an earlier one waits (for its time or its retry).
_CLAIM = f"""
UPDATE {_TABLE} SET status = 'doing', started_at = %s, attempts = attempts + 1
WHERE status = 'todo' AND id = (
    SELECT job.id FROM {_TABLE} AS job
    WHERE job.status = 'todo' AND job.run_after <= %s {{queues}}
      AND (job.lock IS NULL OR NOT EXISTS (
          SELECT 1 FROM {_TABLE} AS other
          WHERE other.lock = job.lock
            AND (other.status = 'doing' OR (other.status = 'todo' AND other.id < job.id))
      ))
    ORDER BY job.id
    LIMIT 1
)
RETURNING id, task_name, kwargs, attempts
"""  # noqa: S608 (a constant table name)


class DatabaseBackend:
    name = "database"

    def __init__(self) -> None:
        # Set after a commit that queued a job: the worker threads of this process start at once.
        self._work_queued = threading.Event()
        self._periodic_started = threading.Event()

    def enqueue(
        self,
        task: "Task",
        kwargs: dict,
        *,
        run_after: datetime | None,
        lock: str | None,
        queueing_lock: str | None,
    ) -> None:
        job = TaskJob(
            task_name=task.name,
            queue=task.queue,
            kwargs=kwargs,
            lock=lock,
            queueing_lock=queueing_lock,
            run_after=run_after or timezone.now(),
        )
        if queueing_lock is None:
            job.save(force_insert=True)
        else:
            try:
                with transaction.atomic():  # a clash must not spoil the caller's transaction
                    job.save(force_insert=True)
            except IntegrityError:
                raise AlreadyQueued(queueing_lock) from None
        transaction.on_commit(self._work_queued.set)

    def run_pending(self, limit: int | None = None, queues: list[str] | None = None) -> int:
        ran = 0
        while limit is None or ran < limit:
            job = self._claim(queues)
            if job is None:
                break
            self._run(job)
            ran += 1
        return ran

    def _claim(self, queues: list[str] | None = None) -> TaskJob | None:
        """Take the oldest due job whose lock is free, in one statement (SQLite has one writer)."""
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        in_queues = f"AND job.queue IN ({', '.join(['%s'] * len(queues))})" if queues else ""
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM.format(queues=in_queues), [now, now, *(queues or [])])
            row = cursor.fetchone()
        if row is None:
            return None
        job_id, task_name, kwargs, attempts = row
        return TaskJob(
            pk=job_id,
            task_name=task_name,
            kwargs=json.loads(kwargs) if isinstance(kwargs, str) else kwargs,
            attempts=attempts,
            status=JobStatus.DOING,
        )

    def _run(self, job: TaskJob) -> None:
        task = registered_tasks().get(job.task_name)
        try:
            if task is None:
                raise LookupError(f"no task named {job.task_name!r} in this process")
            task(**job.kwargs)
        except Exception as error:
            logger.exception("task %s (job %s) failed", job.task_name, job.pk)
            wait = task.retry_in(job.attempts - 1) if task is not None else None
            changes = {"last_error": f"{type(error).__name__}: {error}"[:2000], "started_at": None}
            if wait is None:
                changes["status"] = JobStatus.FAILED
            else:
                changes["status"] = JobStatus.TODO
                changes["run_after"] = timezone.now() + timedelta(seconds=wait)
            TaskJob.objects.filter(pk=job.pk).update(**changes)
        else:
            TaskJob.objects.filter(pk=job.pk).delete()

    def retry_stalled_jobs(self) -> int:
        stalled_since = timezone.now() - timedelta(seconds=settings.TASKS_DATABASE_LEASE_SECONDS)
        return TaskJob.objects.filter(status=JobStatus.DOING, started_at__lt=stalled_since).update(
            status=JobStatus.TODO, started_at=None
        )

    def run_worker(
        self, *, concurrency: int = 1, queues: list[str] | None = None, in_thread: bool = False
    ) -> None:
        """Run the jobs of ``queues`` (None: all) in ``concurrency`` threads."""
        threads = [
            threading.Thread(
                target=self._work, args=(queues,), name=f"comptoir-tasks-{i}", daemon=True
            )
            for i in range(concurrency)
        ]
        if not self._periodic_started.is_set():  # one per process, however many workers
            self._periodic_started.set()
            threads.append(
                threading.Thread(target=self._queue_periodic, name="comptoir-periodic", daemon=True)
            )
        for thread in threads:
            thread.start()
        if not in_thread:
            for thread in threads:
                thread.join()

    def _work(self, queues: list[str] | None) -> None:
        while True:
            ran = 0
            try:
                close_old_connections()
                ran = self.run_pending(limit=20, queues=queues)
            except Exception:
                logger.exception("task round failed; trying again shortly")
            finally:
                close_old_connections()
            if not ran:
                self._work_queued.wait(settings.TASKS_POLL_SECONDS)
                self._work_queued.clear()

    def _queue_periodic(self) -> None:
        """Queue each periodic task at its cron times (once: its name is its queueing lock)."""
        now = timezone.now()
        schedules = {p.task.name: croniter(p.cron, now) for p in periodic_tasks()}
        due = {name: schedule.get_next(datetime) for name, schedule in schedules.items()}
        while due:
            name, when = min(due.items(), key=lambda item: item[1])
            pause = (when - timezone.now()).total_seconds()
            if pause > 0:
                time.sleep(pause)
            try:
                close_old_connections()
                registered_tasks()[name].enqueue(queueing_lock=f"periodic:{name}")
            except AlreadyQueued:
                pass
            except Exception:
                logger.exception("could not queue periodic task %s", name)
            finally:
                close_old_connections()
            due[name] = schedules[name].get_next(datetime)
