"""Art. 15 and 20: everything Comptoir keeps about one customer, as machine-readable JSON."""

import io
import json
import zipfile
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


def _archive_name(attachment: Attachment) -> str:
    """``attachments/<id>-<name>``: unique, and no path a zip tool would follow out."""
    name = attachment.filename.replace("\\", "_").replace("/", "_").lstrip(".") or "file"
    return f"attachments/{attachment.pk}-{name[:120]}"


def export_archive(customer: Customer) -> bytes:
    """The export as a zip: ``customer.json`` plus every file the customer sent or received.

    Machine-readable (Art. 20): the JSON of ``export_customer`` names each file by
    its archive path (``attachments[].path``). Built in memory on each download
    and never stored: a stored copy would be one more place to erase.
    """
    data = export_customer(customer)
    attachments = Attachment.objects.filter(
        message__conversation__customer=customer, message__is_internal_note=False
    ).order_by("id")
    paths = {attachment.pk: _archive_name(attachment) for attachment in attachments}
    for conversation in data["conversations"]:
        for message in conversation["messages"]:
            for item in message["attachments"]:
                item["path"] = paths.get(item["id"], "")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("customer.json", json.dumps(data, ensure_ascii=False, indent=2))
        for attachment in attachments:
            try:
                with attachment.file.open("rb") as stored:
                    archive.writestr(paths[attachment.pk], stored.read())
            except OSError:
                archive.writestr(paths[attachment.pk] + ".missing.txt", "File not found.")
    return buffer.getvalue()
