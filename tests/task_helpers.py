"""Test helpers around the task engines: look at and time-travel queued jobs."""

from django.conf import settings
from django.db import connection

from comptoir.tasks.models import JobStatus, TaskJob


def make_jobs_due() -> None:
    """Jobs waiting for a retry or a later time become due now (instead of waiting)."""
    if settings.TASKS_BACKEND == "database":
        TaskJob.objects.filter(status=JobStatus.TODO).update(run_after="2000-01-01T00:00:00Z")
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET scheduled_at = now() - interval '1 second' "
            "WHERE status = 'todo' AND scheduled_at IS NOT NULL"
        )


def queued_task_names() -> list[str]:
    """The names of the tasks waiting to run, oldest first."""
    if settings.TASKS_BACKEND == "database":
        return list(
            TaskJob.objects.filter(status=JobStatus.TODO)
            .order_by("pk")
            .values_list("task_name", flat=True)
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT task_name FROM procrastinate_jobs WHERE status = 'todo' ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def drop_queued_jobs(task_name: str) -> int:
    """Throw away the waiting jobs of one task (as if they had never been queued); how many."""
    if settings.TASKS_BACKEND == "database":
        deleted, _ = TaskJob.objects.filter(status=JobStatus.TODO, task_name=task_name).delete()
        return deleted
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM procrastinate_jobs WHERE status = 'todo' AND task_name = %s", [task_name]
        )
        return cursor.rowcount
