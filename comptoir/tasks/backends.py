"""The engine that stores and runs jobs: chosen once per process from ``settings.TASKS_BACKEND``."""

from functools import cache
from typing import TYPE_CHECKING, Protocol

from django.conf import settings

if TYPE_CHECKING:
    from comptoir.tasks.registry import Task


class Backend(Protocol):
    name: str

    def enqueue(
        self, task: "Task", kwargs: dict, *, run_after, lock: str | None, queueing_lock: str | None
    ) -> None: ...

    def run_pending(self, limit: int | None = None) -> int:
        """Run the jobs due now here, in the caller's database connection; how many ran."""

    def run_worker(self, *, concurrency: int, queues: list[str] | None, in_thread: bool) -> None:
        """Run jobs as they come until the process ends."""

    def retry_stalled_jobs(self) -> int:
        """Put back the jobs of workers that died mid-run; how many."""


@cache
def current_backend() -> Backend:
    if settings.TASKS_BACKEND == "procrastinate":
        from comptoir.tasks.procrastinate_engine import ProcrastinateBackend

        return ProcrastinateBackend()
    if settings.TASKS_BACKEND == "database":
        from comptoir.tasks.database import DatabaseBackend

        return DatabaseBackend()
    raise ValueError(
        f"TASKS_BACKEND {settings.TASKS_BACKEND!r} is neither procrastinate nor database"
    )
