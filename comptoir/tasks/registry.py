"""Declaring tasks and queueing them through the engine ``settings.TASKS_BACKEND`` names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from comptoir.tasks.catalogue import AlreadyQueued, register, register_periodic

__all__ = [
    "AlreadyQueued",
    "PeriodicTask",
    "Task",
    "load_all_tasks",
    "periodic",
    "register",
    "task",
]


@dataclass(frozen=True, eq=False)
class Task:
    """A function the engine runs later, in a worker, with JSON-serialisable keyword arguments.

    ``retries``: how many times a failed run is tried again, the n-th retry
    ``n * retry_wait`` seconds after the failure. A task must be safe to run twice:
    a worker killed mid-run leaves its job to be run again.
    """

    name: str
    func: Callable[..., Any]
    queue: str = "default"
    retries: int = 0
    retry_wait: int = 30

    def __call__(self, **kwargs: Any) -> Any:
        """Run the task here and now (what a worker does with a job)."""
        return self.func(**kwargs)

    def enqueue(
        self,
        *,
        run_after: datetime | timedelta | None = None,
        lock: str | None = None,
        queueing_lock: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Queue a run, committed or rolled back with the current transaction.

        ``lock``: jobs sharing it run one at a time, in the order they were
        queued (a conversation's messages). ``queueing_lock``: at most one job
        with it waits at a time; another raises ``AlreadyQueued``.
        """
        if isinstance(run_after, timedelta):
            run_after = timezone.now() + run_after
        from comptoir.tasks.backends import current_backend

        current_backend().enqueue(
            self, kwargs, run_after=run_after, lock=lock, queueing_lock=queueing_lock
        )

    def retry_in(self, previous_attempts: int) -> int | None:
        """Seconds to wait before trying again after a failure, or None: failed for good."""
        if previous_attempts >= self.retries:
            return None
        return self.retry_wait * (previous_attempts + 1)


@dataclass(frozen=True, eq=False)
class PeriodicTask:
    """A task the workers queue themselves on a cron schedule (a 6th field counts seconds)."""

    task: Task
    cron: str


def task(
    *, name: str = "", queue: str = "default", retries: int = 0, retry_wait: int = 30
) -> Callable[[Callable[..., Any]], Task]:
    """Declare a task: ``@task(retries=3)`` above a function taking keyword arguments."""

    def declare(func: Callable[..., Any]) -> Task:
        return register(
            Task(
                name=name or f"{func.__module__}.{func.__qualname__}",
                func=func,
                queue=queue,
                retries=retries,
                retry_wait=retry_wait,
            )
        )

    return declare


def periodic(*, cron: str, name: str = "", queue: str = "default") -> Callable[..., Task]:
    """Declare a task run on a cron schedule, e.g. ``@periodic(cron="*/5 * * * *")``.

    The function takes no argument; with several workers each run happens once.
    """

    def declare(func: Callable[[], Any]) -> Task:
        declared = task(name=name, queue=queue)(func)
        register_periodic(PeriodicTask(declared, cron))
        return declared

    return declare


def load_all_tasks() -> None:
    """Import every app's ``tasks`` and ``listeners`` modules: what a worker must know."""
    autodiscover_modules("tasks", "listeners")
