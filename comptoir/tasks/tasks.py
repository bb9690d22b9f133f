"""The task system's own periodic work."""

from django.conf import settings

from comptoir.tasks.backends import current_backend
from comptoir.tasks.registry import periodic


@periodic(cron=settings.TASKS_STALLED_SWEEP_CRON)
def retry_stalled_jobs() -> None:
    """Give the jobs of a worker that died mid-run (SIGKILL, lost machine) to another."""
    current_backend().retry_stalled_jobs()
