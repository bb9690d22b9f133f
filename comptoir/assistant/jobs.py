"""The assistant's work on one customer message, run by a worker (``assistant.listeners``).

The job's ``AssistantJob`` row records what the assistant did with the message
(answered, handed off and why), which the assistant's results are counted from.
"""

import logging

from django.db import IntegrityError

from comptoir.assistant.models import AssistantJob, JobStatus
from comptoir.assistant.processing import process_job
from comptoir.conversations.models import Message

logger = logging.getLogger(__name__)

# Tries in all for one message; the task engine waits between them (``listeners``).
MAX_ATTEMPTS = 3


def handle_customer_message(message_id: int) -> AssistantJob | None:
    """Analyse and answer (or hand off) one customer message; None if it is gone.

    Safe to run again: a message already handled is not handled twice. A failure
    is recorded on the job and raised for the engine to retry, until the last
    try, which marks the job failed for good.
    """
    job = _job_for(message_id)
    if job is None or job.status != JobStatus.PENDING:
        return job
    job.attempts += 1
    job.save(update_fields=["attempts"])
    try:
        return process_job(job.pk)
    except AssistantJob.DoesNotExist:
        return None  # its message was deleted meanwhile
    except Exception as error:
        job.last_error = f"{type(error).__name__}: {error}"[:2000]
        if job.attempts < MAX_ATTEMPTS:
            job.save(update_fields=["last_error"])
            raise
        logger.exception("assistant job %s failed for good", job.pk)
        job.status = JobStatus.FAILED
        job.save(update_fields=["last_error", "status"])
        return job


def _job_for(message_id: int) -> AssistantJob | None:
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        return None
    try:
        job, _ = AssistantJob.objects.get_or_create(
            message=message,
            defaults={
                "brand_id": message.brand_id,
                "conversation_id": message.conversation_id,
                "created_at": message.created_at,
            },
        )
    except IntegrityError:  # the same message's job made by a concurrent run
        job = AssistantJob.objects.get(message=message)
    return job
