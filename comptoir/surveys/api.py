"""Surveys in the integrator API (a ninja Router registered in ``api.urls``).

- ``POST /api/conversations/{id}/survey``: send one now about the conversation's last contact;
- ``POST /api/contacts/{id}/survey``: the telephony's post-call answer (an IVR survey);
- ``GET /api/conversations/{id}/surveys``: the conversation's surveys and answers.

Any agent's token of the brand; another brand's conversation or contact is 404.
"""

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from comptoir.api.schemas import ErrorOut, ObjectId
from comptoir.conversations.access import access_contact, access_conversation
from comptoir.surveys.actions import SurveyError, answer_after_call, send_by_hand
from comptoir.surveys.models import Survey, SurveySource

surveys_router = Router(tags=["surveys"])


class SurveyOut(Schema):
    id: int
    conversation_id: int
    contact_id: int
    channel: str
    source: str = Field(description="automatic, agent, api or phone.")
    status: str = Field(description="scheduled, sent, answered or cancelled.")
    agent_id: int | None
    team_id: int | None
    intent: str
    sent_at: datetime | None
    answered_at: datetime | None
    csat: int | None = Field(description="Satisfaction, 1 to 5.")
    ces: int | None = Field(description="Effort (CES 2.0), 1 to 7.")
    comment: str


class CallAnswerIn(Schema):
    csat: int = Field(ge=1, le=5, description="Satisfaction, 1 to 5 (the caller's key press).")
    ces: int | None = Field(None, ge=1, le=7, description="Effort, 1 to 7.")
    comment: str = Field("", max_length=2000)


def _refuse(exc: SurveyError) -> HttpError:
    status = (
        409
        if exc.code
        in (
            "used",
            "already_sent",
            "not_sent",
            "unreachable",
            "no_contact",
            "not_a_call",
            "no_consent",
        )
        else 422
    )
    return HttpError(status, str(exc))


@surveys_router.post(
    "/conversations/{int:conversation_id}/survey",
    response={201: SurveyOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def send_survey(request: HttpRequest, conversation_id: ObjectId):
    """Send a survey now about the conversation's last contact (quiet period or not)."""
    conversation = access_conversation(request.auth, conversation_id)
    try:
        return Status(201, send_by_hand(request.auth, conversation, source=SurveySource.API))
    except SurveyError as exc:
        raise _refuse(exc) from None


@surveys_router.post(
    "/contacts/{int:contact_id}/survey",
    response={201: SurveyOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
)
def answer_call_survey(request: HttpRequest, contact_id: ObjectId, body: CallAnswerIn):
    """Record the answer the telephony collected after a call (its contact id is in
    ``call.updated``); once per contact: a second answer is 409."""
    contact = access_contact(request.auth, contact_id)
    try:
        return Status(201, answer_after_call(contact, body.csat, body.ces, body.comment))
    except SurveyError as exc:
        raise _refuse(exc) from None


@surveys_router.get(
    "/conversations/{int:conversation_id}/surveys",
    response={200: list[SurveyOut], 401: ErrorOut, 404: ErrorOut},
)
def list_surveys(request: HttpRequest, conversation_id: ObjectId):
    conversation = access_conversation(request.auth, conversation_id)
    return list(Survey.objects.filter(conversation=conversation).order_by("pk"))
