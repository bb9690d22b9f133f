"""The job table of the ``database`` engine (SQLite, ``make demo``).

On PostgreSQL the jobs live in Procrastinate's own tables and this one stays empty.
"""

from django.db import models
from django.db.models import Q


class JobStatus(models.TextChoices):
    TODO = "todo", "To do"
    DOING = "doing", "Doing"
    FAILED = "failed", "Failed"


class TaskJob(models.Model):
    """One queued run of a task; deleted once it succeeds, kept when it fails for good."""

    task_name = models.CharField(max_length=200)
    queue = models.CharField(max_length=50, default="default")
    kwargs = models.JSONField(default=dict)
    status = models.CharField(max_length=6, choices=JobStatus.choices, default=JobStatus.TODO)
    # Jobs sharing a lock run one at a time, oldest first.
    lock = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001 (NULL: no lock)
    # At most one job per queueing lock waits at a time.
    queueing_lock = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    run_after = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    # When the current run started: a run older than the stall timeout is retried.
    started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "run_after"], name="taskjob_due"),
            models.Index(fields=["lock", "status"], name="taskjob_lock"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["queueing_lock"],
                condition=Q(status="todo"),
                name="taskjob_one_waiting_per_queueing_lock",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk} ({self.status})"
