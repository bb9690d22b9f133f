"""Background work: one small task API over a real engine.

Declare a task with ``@task`` (or ``@periodic``) in an app's ``tasks.py``; queue
it with ``my_task.enqueue(run_after=…, lock=…, **kwargs)`` inside the transaction
whose change causes it: the job row commits or rolls back with that change.

Two engines run the same tasks (``settings.TASKS_BACKEND``):

- ``procrastinate`` on PostgreSQL: jobs in Procrastinate's tables, retries with
  backoff, per-key locks, periodic jobs, workers (``comptoir worker``) as separate
  processes on any number of machines;
- ``database`` on SQLite (``make demo``): jobs in the ``TaskJob`` table, run by
  ``comptoir serve --worker`` in the serving process; nothing is lost on restart.

The API is shaped like Django's ``django.tasks`` so that moving to it later is a
backend swap.
"""

from comptoir.tasks.catalogue import AlreadyQueued
from comptoir.tasks.registry import (
    PeriodicTask,
    Task,
    load_all_tasks,
    periodic,
    task,
)

__all__ = [
    "AlreadyQueued",
    "PeriodicTask",
    "Task",
    "load_all_tasks",
    "periodic",
    "run_pending",
    "task",
]


def run_pending(limit: int | None = None) -> int:
    """Run the jobs due now in this process and connection (tests, ``worker --once``)."""
    from comptoir.tasks.backends import current_backend

    load_all_tasks()
    return current_backend().run_pending(limit)
