"""The assistant's worker round, run by the outbox worker loop (``comptoir deliver``,
``comptoir serve --worker``) after each delivery round.

``run_due`` retrains brands whose intents changed, then claims pending jobs
with ``SKIP LOCKED`` (several workers never take the same job) and a lease (a
worker that dies mid-job leaves it to be retried when the lease ends).
"""

import logging
from datetime import timedelta

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from comptoir.assistant.engine import train_brand
from comptoir.assistant.models import AssistantJob, JobStatus, TrainedModel
from comptoir.assistant.processing import process_job
from comptoir.outbox.claims import claim_due

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 3
RETRY_DELAY = timedelta(seconds=30)


def run_due(limit: int = 20) -> int:
    """One round: retrain what changed, then handle due jobs; returns how much was done."""
    return train_due() + process_due(limit)


def train_due() -> int:
    """Retrain every brand whose intents changed since its model was trained."""
    due = list(
        # Training clears ``requested_at`` (also when it fails: no retry loop on bad intents).
        TrainedModel.objects.filter(requested_at__isnull=False).values_list("brand_id", flat=True)
    )
    for brand_id in due:
        train_brand(brand_id)
    return len(due)


def process_due(limit: int = 20) -> int:
    """Handle due jobs, each conversation's in the order its messages arrived.

    A job waits while an earlier job of its conversation is pending (being
    handled by another worker, or waiting for a retry): the assistant must
    not answer a second message before the first, nor two at once.
    """
    pending = AssistantJob.objects.filter(status=JobStatus.PENDING)
    claimed = claim_due(
        pending.exclude(
            Exists(pending.filter(conversation=OuterRef("conversation"), pk__lt=OuterRef("pk")))
        ),
        timezone.now(),
        limit=limit,
        lease=CLAIM_LEASE,
        order_by="pk",
        attempts=F("attempts") + 1,
    )
    for job_id in claimed:
        try:
            process_job(job_id)
        except AssistantJob.DoesNotExist:
            continue  # its message was deleted meanwhile
        except Exception as error:
            logger.exception("assistant job %s failed", job_id)
            _record_failure(job_id, f"{type(error).__name__}: {error}")
    return len(claimed)


def _record_failure(job_id: int, reason: str) -> None:
    job = AssistantJob.objects.filter(pk=job_id).first()
    if job is None:
        return
    job.last_error = reason[:2000]
    if job.attempts >= MAX_ATTEMPTS:
        job.status = JobStatus.FAILED
    else:
        job.next_attempt_at = timezone.now() + RETRY_DELAY * job.attempts
    job.save(update_fields=["last_error", "status", "next_attempt_at"])
