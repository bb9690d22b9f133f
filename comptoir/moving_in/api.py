"""Past conversations through the integrator API: what an importer or a sync needs.

``POST /api/imports/conversations`` takes one conversation of another system with
its customer and its past messages (original times, authors, notes) and stores
it exactly as the import commands do (``moving_in.importer``): the customer
through the live identity resolver, the history without live side effects,
idempotent by ``source`` and ids (posting the same conversation again adds only
the messages it lacked). Administrators' tokens only (403 for other roles).
"""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import StrictBool

from comptoir.api.auth import ApiTokenAuth
from comptoir.api.schemas import ErrorOut
from comptoir.conversations.inbound import IdentityClaim
from comptoir.conversations.models import Conversation
from comptoir.customers.models import IdentityKind
from comptoir.moving_in.importer import import_export
from comptoir.moving_in.models import ImportedRecord
from comptoir.moving_in.records import Export, Person, Thread, ThreadMessage
from comptoir.tenancy.access import check_role
from comptoir.tenancy.models import Membership, Role

REFUSAL = "Only the brand's administrators import conversations."


class AdministratorTokenAuth(ApiTokenAuth):
    admin_only = True

    def authenticate(self, request: HttpRequest, token: str) -> Membership:
        return check_role(super().authenticate(request, token), Role.ADMIN, REFUSAL)


imports_router = Router(tags=["imports"], auth=AdministratorTokenAuth())

ChannelValue = Literal["webchat", "email", "phone", "whatsapp", "messenger", "api"]


class PastCustomerIn(Schema):
    external_id: str = Field(min_length=1, max_length=80, description="The customer's id there.")
    name: str = ""
    email: str = ""
    phone: str = ""
    customer_number: str = ""


class PastMessageIn(Schema):
    external_id: str = Field(min_length=1, max_length=80)
    author: Literal["customer", "agent", "bot"]
    agent_email: str = Field("", description="An agent's: their account here, by e-mail.")
    text: str = Field(min_length=1, max_length=100_000)
    internal_note: StrictBool = False
    created_at: datetime = Field(description="When it was written (with its offset).")
    channel: ChannelValue | None = Field(None, description="Default: the conversation's.")


class PastConversationIn(Schema):
    source: str = Field(
        pattern=r"^[a-z0-9_-]{1,20}$",
        description="The system it comes from (zendesk, chatwoot, crm…): ids are unique in it.",
    )
    external_id: str = Field(min_length=1, max_length=80)
    customer: PastCustomerIn
    subject: str = Field("", max_length=200)
    status: Literal["open", "pending", "resolved"]
    channel: ChannelValue
    created_at: datetime
    resolved_at: datetime | None = None
    assignee_email: str = ""
    messages: list[PastMessageIn] = Field(max_length=5000)


class ImportedOut(Schema):
    conversation_id: int
    customer_id: int
    created: bool = Field(description="False: it was imported before; only new messages added.")
    messages_added: int
    customer_existed: bool = Field(description="The customer was already known here.")


def _agent(export: Export, email: str) -> str:
    if not email:
        return ""
    external_id = f"agent:{email.lower()}"
    export.people[external_id] = Person(external_id, "", [], is_agent=True, email=email)
    return external_id


@imports_router.post(
    "/imports/conversations",
    response={200: ImportedOut, 201: ImportedOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
)
def import_conversation(request: HttpRequest, body: PastConversationIn) -> Status:
    """Store a past conversation of another system, with its customer and messages."""
    customer = body.customer
    claims = [
        IdentityClaim(kind, value)
        for kind, value in [
            (IdentityKind.EMAIL, customer.email),
            (IdentityKind.PHONE, customer.phone),
            (IdentityKind.CUSTOMER_NUMBER, customer.customer_number),
        ]
        if value
    ]
    export = Export()
    person_id = f"customer:{customer.external_id}"
    export.people[person_id] = Person(person_id, customer.name, claims)
    messages = [
        ThreadMessage(
            external_id=f"{body.source}:{m.external_id}",
            author_kind=m.author,
            text=m.text,
            created_at=m.created_at,
            channel=m.channel or body.channel,
            is_note=m.internal_note,
            author_external_id=_agent(export, m.agent_email)
            if m.author == "agent"
            else (person_id if m.author == "customer" else ""),
        )
        for m in body.messages
    ]
    export.threads.append(
        Thread(
            external_id=body.external_id,
            requester_external_id=person_id,
            subject=body.subject,
            status=body.status,
            channel=body.channel,
            created_at=body.created_at,
            updated_at=body.resolved_at,
            messages=messages,
            assignee_external_id=_agent(export, body.assignee_email),
        )
    )
    admin: Membership = request.auth  # type: ignore[attr-defined]
    report = import_export(admin.brand, body.source, export)
    record = ImportedRecord.objects.filter(
        brand_id=admin.brand_id,
        source=body.source,
        kind="conversation",
        external_id=body.external_id,
    ).first()
    if record is None:
        reasons = "; ".join(f"{skip.what}: {skip.reason}" for skip in report.skipped)
        return Status(400, {"detail": reasons or "Nothing could be imported."})
    conversation = Conversation.objects.get(pk=record.object_id)
    created = report.conversations_created == 1
    return Status(
        201 if created else 200,
        {
            "conversation_id": conversation.pk,
            "customer_id": conversation.customer_id,
            "created": created,
            "messages_added": report.messages_created,
            "customer_existed": report.customers_created == 0,
        },
    )
