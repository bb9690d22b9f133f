"""Art. 15 and 20: everything Comptoir keeps about one customer, as machine-readable JSON."""

from typing import Any

from comptoir.conversations.models import Attachment, Conversation, Message
from comptoir.customers.models import Customer
from comptoir.touchpoints.phone.models import Call, CallbackRequest


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export_customer(customer: Customer) -> dict[str, Any]:
    """The customer, identities, consents, conversations with messages and files, calls."""
    conversations = list(Conversation.objects.filter(customer=customer).order_by("created_at"))
    messages = list(
        Message.objects.filter(conversation__in=conversations, is_internal_note=False)
        .order_by("created_at", "id")
        .values(
            "id", "conversation_id", "direction", "author_kind", "channel", "text", "created_at"
        )
    )
    files: dict[int, list[dict[str, Any]]] = {}
    for attachment in Attachment.objects.filter(message_id__in=[m["id"] for m in messages]):
        files.setdefault(attachment.message_id, []).append(
            {
                "id": attachment.pk,
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
            }
        )
    by_conversation: dict[int, list[dict[str, Any]]] = {}
    for message in messages:
        by_conversation.setdefault(message["conversation_id"], []).append(
            {
                "direction": message["direction"],
                "author": message["author_kind"],
                "channel": message["channel"],
                "text": message["text"],
                "at": _iso(message["created_at"]),
                "attachments": files.get(message["id"], []),
            }
        )
    return {
        "format": "comptoir.customer-export/1",
        "customer": {
            "id": customer.pk,
            "name": customer.display_name,
            "language": customer.language,
            "created_at": _iso(customer.created_at),
        },
        "identities": [
            {"kind": i.kind, "value": i.value, "verified": i.verified, "since": _iso(i.created_at)}
            for i in customer.identities.order_by("kind", "value")
        ],
        "consents": [
            {
                "purpose": c.purpose,
                "granted": c.granted,
                "source": c.source,
                "recorded_at": _iso(c.recorded_at),
            }
            for c in customer.consents.order_by("recorded_at")
        ],
        "conversations": [
            {
                "id": c.pk,
                "channel": c.channel,
                "subject": c.subject,
                "status": c.status,
                "created_at": _iso(c.created_at),
                "messages": by_conversation.get(c.pk, []),
            }
            for c in conversations
        ],
        "callbacks": [
            {"number": cb.number, "status": cb.status, "requested_for": _iso(cb.requested_for)}
            for cb in CallbackRequest.objects.filter(customer=customer).order_by("id")
        ],
        "calls": [
            {
                "direction": call.direction,
                "from": call.from_number,
                "to": call.to_number,
                "transcript": call.transcript,
            }
            for call in Call.objects.filter(contact__conversation__in=conversations).order_by("id")
        ],
    }
