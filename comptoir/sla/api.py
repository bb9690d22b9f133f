"""A conversation's SLA state in the integrator API (a ninja Router registered in ``api.urls``).

Read-only: any agent's token of the conversation's brand (another brand's
conversation is 404, as everywhere). Policies and calendars are managed on the
console's administration page (``sla.console_views``).
"""

from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from comptoir.api.schemas import ErrorOut, ObjectId
from comptoir.conversations.access import access_conversation
from comptoir.sla.models import ConversationSla
from comptoir.sla.risk import clocks_of

sla_router = Router(tags=["sla"])


class ClockOut(Schema):
    target: str = Field(description="first_response, next_response or resolution.")
    state: str = Field(description="running, paused (pending: waiting on the customer), stopped.")
    due_at: datetime | None = Field(description="When the target is breached (running clocks).")
    at_risk: bool = Field(description="Past the policy's at-risk share of its time.")
    breached: bool
    stopped_at: datetime | None


class ConversationSlaOut(Schema):
    conversation_id: int
    policy_id: int | None = Field(description="The policy applied; null: no SLA measured.")
    policy_name: str | None
    clocks: list[ClockOut]


@sla_router.get(
    "/conversations/{int:conversation_id}/sla",
    response={200: ConversationSlaOut, 401: ErrorOut, 404: ErrorOut},
)
def get_conversation_sla(request: HttpRequest, conversation_id: ObjectId) -> dict:
    """The conversation's SLA policy and clocks: due times, at risk, breached."""
    conversation = access_conversation(request.auth, conversation_id)
    sla = ConversationSla.objects.select_related("policy").filter(conversation=conversation).first()
    policy = sla.policy if sla is not None else None
    return {
        "conversation_id": conversation.pk,
        "policy_id": policy.pk if policy else None,
        "policy_name": policy.name if policy else None,
        "clocks": clocks_of(conversation, timezone.now()),
    }
