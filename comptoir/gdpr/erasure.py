"""Art. 17: erase a person: identities, texts, files and events' personal fields, for good.

What stays is anonymous: the customer row (no name, no identity), conversations and
messages with their channel, direction, status and times, events with their kind,
actor and times. So reports (volumes, response times, SLA) stay true, and nothing
left says who the person was or what they wrote. Irreversible, in one transaction,
recorded in the audit log (ids only). Tested by scanning every table and the storage
afterwards (``tests/test_gdpr.py``).
"""

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from comptoir.assistant.models import AssistantJob, ConversationState
from comptoir.conversations.models import Attachment, Conversation, Message
from comptoir.customers.models import Customer, DuplicateProposal, MergeRecord
from comptoir.events.models import Event
from comptoir.outbox.models import Delivery
from comptoir.search.ddl import purge_deleted_terms
from comptoir.security import audit
from comptoir.security.models import AuditAction
from comptoir.tenancy.models import Membership
from comptoir.touchpoints.email.models import QuarantinedMail
from comptoir.touchpoints.messaging.models import MessagingRoute
from comptoir.touchpoints.phone.models import Call, CallbackRequest

logger = logging.getLogger(__name__)
ERASED = {"erased": True}


def erase_customer(
    actor: Membership | None, customer: Customer, *, reason: str = "request"
) -> dict[str, int]:
    """Erase ``customer`` (and the customers merged into it); returns what was erased.

    ``actor`` None: Comptoir itself, for the brand's retention period
    (``gdpr.retention``; ``reason="retention"``), recorded as such in the audit log.
    """
    files = []
    with transaction.atomic():
        people = [
            customer.pk,
            *Customer.objects.filter(merged_into=customer).values_list("pk", flat=True),
        ]
        addresses = list(customer.identities.values_list("value", flat=True))
        conversations = Conversation.objects.filter(customer_id__in=people)
        conversation_ids = list(conversations.values_list("pk", flat=True))
        messages = Message.objects.filter(conversation_id__in=conversation_ids)
        attachments = Attachment.objects.filter(message__conversation_id__in=conversation_ids)
        files = [a.file.name for a in attachments.only("file")]
        counts = {
            "conversations": len(conversation_ids),
            "messages": messages.count(),
            "attachments": len(files),
            "identities": 0,
        }
        attachments.delete()
        for message_id in messages.values_list("pk", flat=True):
            # The external id may be a mail's Message-ID or a visitor id: unique, anonymous.
            Message.objects.filter(pk=message_id).update(
                text="", external_id=f"erased:{message_id}"
            )
        conversations.update(subject="")
        Call.objects.filter(contact__conversation_id__in=conversation_ids).update(
            from_number="", to_number="", transcript="", recording_url="", provider_call_id=""
        )
        CallbackRequest.objects.filter(
            Q(customer_id__in=people) | Q(conversation_id__in=conversation_ids)
        ).update(number="", note="")
        MessagingRoute.objects.filter(conversation_id__in=conversation_ids).update(recipient_id="")
        Delivery.objects.filter(message__conversation_id__in=conversation_ids).update(
            last_error="", provider_id=""
        )
        AssistantJob.objects.filter(conversation_id__in=conversation_ids).update(
            reason="", last_error=""
        )
        ConversationState.objects.filter(conversation_id__in=conversation_ids).update(
            details={}, history=[], summary="", pending_action="", pending_intent=""
        )
        Event.objects.filter(
            Q(customer_id__in=people) | Q(conversation_id__in=conversation_ids)
        ).update(payload=ERASED, customer_payload=ERASED)
        for address in addresses:
            QuarantinedMail.objects.filter(
                Q(envelope_sender__iexact=address) | Q(header_from__icontains=address),
                brand_id=customer.brand_id,
            ).delete()
        DuplicateProposal.objects.filter(
            Q(customer_a_id__in=people) | Q(customer_b_id__in=people)
        ).delete()
        MergeRecord.objects.filter(Q(survivor_id__in=people) | Q(absorbed_id__in=people)).update(
            moved={}, previous={}
        )
        identities = customer.identities.model.objects.filter(customer_id__in=people)
        counts["identities"] = identities.count()
        identities.delete()
        customer.consents.model.objects.filter(customer_id__in=people).delete()
        Customer.objects.filter(pk__in=people).update(
            display_name="", advisor=None, erased_at=timezone.now()
        )
        audit.record(
            AuditAction.CUSTOMER_ERASED if actor is not None else AuditAction.RETENTION_ERASED,
            user=actor.user if actor is not None else None,
            username="" if actor is not None else "comptoir",
            brand_id=customer.brand_id,
            target=customer,
            reason=reason,
            **counts,
        )
        purge_deleted_terms()
        transaction.on_commit(lambda: _delete_files(customer.brand_id, files))
    logger.info(
        "customer %s erased (%s) by membership %s: %s",
        customer.pk,
        reason,
        actor.pk if actor is not None else None,
        counts,
    )
    return counts


def _delete_files(brand_id: int, names: list[str]) -> None:
    """The stored files, once the rows that named them are gone for good."""
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("erased attachment file %s of brand %s not deleted", name, brand_id)
