"""The assistant's receiver of stored customer messages: each may become a job.

Conversations send ``customer_message_stored`` for every customer message,
written or transcribed, and know nothing of the assistant; the job row is
written in the message's own transaction (``hooks.enqueue_assistant_job``).
"""

from django.dispatch import receiver

from comptoir.assistant.hooks import assistant_enabled_for, enqueue_assistant_job
from comptoir.conversations.customer_messages import customer_message_stored
from comptoir.conversations.models import Message


@receiver(customer_message_stored, sender=Message)
def queue_for_assistant(sender: type[Message], message: Message, **kwargs) -> None:
    # A call transcript is queued too: the worker classifies it and never answers it.
    if assistant_enabled_for(message.brand_id):  # cached per process: no query on this hot path
        enqueue_assistant_job(message)
