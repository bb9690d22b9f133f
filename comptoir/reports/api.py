"""The reports' figures in the integrator API: ``GET /api/reports`` (the console page's).

Same filters as the page (``from``, ``to``, ``channel``, ``team``, ``agent``,
``intent``) and the same rule: an agent's token gets that agent's figures only.
"""

from datetime import date

from django.core.exceptions import BadRequest
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from comptoir.api.schemas import ErrorOut
from comptoir.reports.facts import catch_up
from comptoir.reports.filters import parse_filters
from comptoir.reports.measures import build_report
from comptoir.reports.views import VIEW_CATCH_UP_BATCHES

reports_router = Router(tags=["reports"])


class ReportQuery(Schema):
    from_: date | None = Field(None, alias="from")
    to: date | None = None
    channel: str = ""
    team: int | None = Field(None, ge=1)
    agent: int | None = Field(None, ge=1)
    intent: str = Field("", max_length=120)


class MeasuresOut(Schema):
    conversations: int
    resolved: int
    fcr: int
    fcr_rate: float | None = Field(
        description="% of resolved conversations resolved at first contact."
    )
    contacts_per_resolution: float | None
    first_response_seconds: int | None
    next_response_seconds: int | None = Field(
        description="Mean wait for each reply after the first, from the oldest unanswered message."
    )
    resolution_seconds: int | None
    wait_seconds: int | None = Field(description="Mean time before an agent took it.")
    handle_seconds: int | None = Field(description="Mean time from taken to resolved.")
    sla_rate: float | None = Field(
        description="% of resolved conversations under an SLA policy with no target breached."
    )
    backlog: int = Field(description="Conversations open at the end of the period (or day).")
    backlog_age_seconds: int | None = Field(description="Their mean age then.")
    assistant_conversations: int
    containment_rate: float | None = Field(
        description="% of the assistant's conversations it handled alone."
    )
    handoff_rate: float | None = Field(
        description="% of the assistant's conversations it handed to a person."
    )
    surveys_sent: int
    surveys_answered: int
    response_rate: float | None
    csat: float | None = Field(description="% of answers scoring 4 or 5.")
    ces: float | None = Field(description="Mean effort, 1 to 7.")


class GroupOut(MeasuresOut):
    key: str | int | None = Field(description="The channel, team id, agent id or intent.")


class DayOut(MeasuresOut):
    day: date


class ReportOut(Schema):
    start: date
    end: date
    fcr_days: int
    agent_id: int | None = Field(description="Set when the figures are one agent's.")
    summary: MeasuresOut
    daily: list[DayOut]
    per_channel: list[GroupOut]
    per_team: list[GroupOut]
    per_agent: list[GroupOut]
    per_intent: list[GroupOut]


@reports_router.get(
    "/reports", response={200: ReportOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut}
)
def get_report(request: HttpRequest, query: Query[ReportQuery]):
    params = {
        "from": query.from_.isoformat() if query.from_ else "",
        "to": query.to.isoformat() if query.to else "",
        "channel": query.channel,
        "team": str(query.team or ""),
        "agent": str(query.agent or ""),
        "intent": query.intent,
    }
    try:
        filters = parse_filters(request.auth, params)
    except BadRequest as exc:
        raise HttpError(400, str(exc)) from None
    catch_up(max_batches=VIEW_CATCH_UP_BATCHES)
    report = build_report(filters)
    return {
        "start": filters.start,
        "end": filters.end,
        "fcr_days": filters.fcr_days,
        "agent_id": filters.agent_id,
        "summary": report.summary,
        "daily": report.daily,
        "per_channel": report.groups["channel"],
        "per_team": report.groups["team"],
        "per_agent": report.groups["agent"],
        "per_intent": report.groups["intent"],
    }
