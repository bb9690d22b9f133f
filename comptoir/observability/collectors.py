"""Metrics read from the database at scrape time: task queues and failed deliveries.

They describe shared state (every process sees the same tables), so every web
process reports the same values: aggregate them with ``max``, not ``sum``. A
database that cannot answer leaves these metrics out of the scrape (and logs a
warning) instead of failing it: ``/readyz`` is what reports the outage.
"""

import logging
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from comptoir.outbox.models import Delivery, DeliveryStatus
from comptoir.tasks.models import JobStatus, TaskJob

logger = logging.getLogger(__name__)

# Due jobs waiting per queue, the age of the oldest one since it became due, and the
# running ones. A job becomes due at its ``scheduled_at`` or, without one, when it
# was deferred (Procrastinate's ``deferred`` event).
PROCRASTINATE_QUEUES_SQL = """
SELECT j.queue_name,
       count(*) FILTER (WHERE j.status = 'todo'),
       max(extract(epoch FROM now() - coalesce(j.scheduled_at, deferred.at)))
           FILTER (WHERE j.status = 'todo'),
       count(*) FILTER (WHERE j.status = 'doing')
FROM procrastinate_jobs j
LEFT JOIN LATERAL (
    SELECT min(e.at) AS at FROM procrastinate_events e
    WHERE e.job_id = j.id AND e.type = 'deferred'
) deferred ON true
WHERE (j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= now()))
   OR j.status = 'doing'
GROUP BY j.queue_name
"""


def task_queue_rows() -> list[tuple[str, int, float, int]]:
    """(queue, due jobs waiting, oldest due job's age in seconds, jobs running) per queue."""
    if settings.TASKS_BACKEND == "procrastinate":
        with connection.cursor() as cursor:
            cursor.execute(PROCRASTINATE_QUEUES_SQL)
            return [(q, int(w), float(age or 0), int(r)) for q, w, age, r in cursor.fetchall()]
    now = timezone.now()
    due = Q(status=JobStatus.TODO, run_after__lte=now)
    rows = (
        TaskJob.objects.filter(due | Q(status=JobStatus.DOING))
        .values("queue")
        .annotate(
            waiting=Count("id", filter=due),
            oldest=Min("run_after", filter=due),
            running=Count("id", filter=Q(status=JobStatus.DOING)),
        )
        .order_by("queue")
    )
    return [
        (
            row["queue"],
            row["waiting"],
            (now - row["oldest"]).total_seconds() if row["oldest"] else 0.0,
            row["running"],
        )
        for row in rows
    ]


def delivery_rows() -> list[tuple[str, int, int]]:
    """(channel, failed for good, waiting for a retry) for outbound deliveries."""
    rows = (
        Delivery.objects.filter(
            Q(status=DeliveryStatus.FAILED) | Q(status=DeliveryStatus.PENDING, attempts__gt=0)
        )
        .values("channel")
        .annotate(
            failed=Count("id", filter=Q(status=DeliveryStatus.FAILED)),
            retrying=Count("id", filter=Q(status=DeliveryStatus.PENDING)),
        )
        .order_by("channel")
    )
    return [(row["channel"], row["failed"], row["retrying"]) for row in rows]


class DatabaseCollector(Collector):
    """Task queue depth and age, running jobs, failed and retrying deliveries."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            queues = task_queue_rows()
            deliveries = delivery_rows()
        except DatabaseError as exc:
            logger.warning("metrics: the database did not answer (%s)", exc)
            return
        waiting = GaugeMetricFamily(
            "comptoir_task_queue_depth", "Due background jobs waiting, by queue.", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "comptoir_task_queue_oldest_age_seconds",
            "How long the oldest due job of a queue has been waiting (0: none).",
            labels=["queue"],
        )
        running = GaugeMetricFamily(
            "comptoir_task_jobs_running", "Background jobs being run, by queue.", labels=["queue"]
        )
        for queue, queue_waiting, queue_age, queue_running in queues:
            waiting.add_metric([queue], queue_waiting)
            age.add_metric([queue], queue_age)
            running.add_metric([queue], queue_running)
        failed = GaugeMetricFamily(
            "comptoir_outbox_deliveries_failed",
            "Outbound deliveries that failed for good (no retry left), by channel.",
            labels=["channel"],
        )
        retrying = GaugeMetricFamily(
            "comptoir_outbox_deliveries_retrying",
            "Outbound deliveries that failed at least once and wait for a retry, by channel.",
            labels=["channel"],
        )
        for channel, channel_failed, channel_retrying in deliveries:
            failed.add_metric([channel], channel_failed)
            retrying.add_metric([channel], channel_retrying)
        yield from (waiting, age, running, failed, retrying)
