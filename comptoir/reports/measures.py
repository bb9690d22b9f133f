"""The measures of the reports, from the conversations' figures and the survey answers.

- **FCR** (first-contact resolution): a resolved conversation with one customer
  contact, and no new conversation of the same person (whatever the channel; a
  merged customer's conversations are theirs) within the brand's window
  (``SurveySettings.fcr_days``, 7 by default) after its resolution.
- **Contacts per resolution**: the customers' contacts of resolved conversations
  divided by their number.
- **First response** and **resolution** times: averages in seconds, from the
  conversation's opening.
- **CSAT**: the share of answers scoring 4 or 5; **CES**: the mean effort score
  (1-7); **response rate**: answers over surveys sent.

Conversations count in the period they were opened; surveys in the period they
were sent. Every function takes one ``Filters`` (brand, period, channel, team,
agent, intent).
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Avg,
    BooleanField,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from comptoir.reports.models import ConversationFacts
from comptoir.surveys.models import Survey, SurveySettings, SurveyStatus

DEFAULT_FCR_DAYS = 7
GROUPS = ("channel", "team", "agent", "intent")


@dataclass(frozen=True)
class Filters:
    brand_id: int
    start: date
    end: date  # inclusive
    channel: str = ""
    team_id: int | None = None
    agent_id: int | None = None
    intent: str = ""
    fcr_days: int = DEFAULT_FCR_DAYS

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))


def fcr_days_of(brand_id: int) -> int:
    days = (
        SurveySettings.objects.filter(brand_id=brand_id).values_list("fcr_days", flat=True).first()
    )
    return days or DEFAULT_FCR_DAYS


def facts_of(filters: Filters) -> QuerySet[ConversationFacts]:
    found = ConversationFacts.objects.filter(
        brand_id=filters.brand_id, created_at__gte=filters.since, created_at__lt=filters.until
    )
    if filters.channel:
        found = found.filter(channel=filters.channel)
    if filters.team_id is not None:
        found = found.filter(team_id=filters.team_id)
    if filters.agent_id is not None:
        found = found.filter(agent_id=filters.agent_id)
    if filters.intent:
        found = found.filter(intent=filters.intent)
    return found


def surveys_of(filters: Filters) -> QuerySet[Survey]:
    found = Survey.objects.filter(
        brand_id=filters.brand_id,
        sent_at__gte=filters.since,
        sent_at__lt=filters.until,
        status__in=[SurveyStatus.SENT, SurveyStatus.ANSWERED],
    )
    if filters.channel:
        found = found.filter(channel=filters.channel)
    if filters.team_id is not None:
        found = found.filter(team_id=filters.team_id)
    if filters.agent_id is not None:
        found = found.filter(agent_id=filters.agent_id)
    if filters.intent:
        found = found.filter(intent=filters.intent)
    return found


def with_repeat(facts: QuerySet[ConversationFacts], fcr_days: int) -> QuerySet[ConversationFacts]:
    """Annotate ``repeat``: the same person opened another conversation within the window."""
    deadline = ExpressionWrapper(
        F("resolved_at") + timedelta(days=fcr_days), output_field=DateTimeField()
    )
    repeat = Q(next_conversation_at__isnull=False, next_conversation_at__lte=deadline)
    return facts.annotate(repeat=ExpressionWrapper(repeat, output_field=BooleanField()))


def is_fcr() -> Q:
    return Q(resolved_at__isnull=False, inbound_contacts__lte=1, repeat=False)


_CONVERSATION_AGGREGATES = {
    "conversations": Count("pk"),
    "resolved": Count("pk", filter=Q(resolved_at__isnull=False)),
    "fcr": Count("pk", filter=is_fcr()),
    "resolved_contacts": Sum("inbound_contacts", filter=Q(resolved_at__isnull=False)),
    "first_response_seconds": Avg("first_response_seconds"),
    "resolution_seconds": Avg("resolution_seconds"),
}
_SURVEY_AGGREGATES = {
    "surveys_sent": Count("pk"),
    "surveys_answered": Count("pk", filter=Q(status=SurveyStatus.ANSWERED)),
    "satisfied": Count("pk", filter=Q(status=SurveyStatus.ANSWERED, csat__gte=4)),
    "ces": Avg("ces", filter=Q(status=SurveyStatus.ANSWERED)),
}


def _ratio(part: float | None, whole: float | None) -> float | None:
    if not whole:
        return None
    return round(100 * (part or 0) / whole, 1)


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    """Counts into the rates and rounded means the pages and the API show."""
    resolved = row.get("resolved") or 0
    answered = row.get("surveys_answered") or 0
    return {
        "conversations": row.get("conversations") or 0,
        "resolved": resolved,
        "fcr": row.get("fcr") or 0,
        "fcr_rate": _ratio(row.get("fcr"), resolved),
        "contacts_per_resolution": (
            round((row.get("resolved_contacts") or 0) / resolved, 2) if resolved else None
        ),
        "first_response_seconds": _round(row.get("first_response_seconds")),
        "resolution_seconds": _round(row.get("resolution_seconds")),
        "surveys_sent": row.get("surveys_sent") or 0,
        "surveys_answered": answered,
        "response_rate": _ratio(answered, row.get("surveys_sent")),
        "csat": _ratio(row.get("satisfied"), answered),
        "ces": round(row["ces"], 2) if row.get("ces") is not None else None,
    }


def _round(value: float | None) -> int | None:
    return None if value is None else round(value)


def summary(filters: Filters) -> dict[str, Any]:
    """Every measure over the filtered conversations and surveys."""
    row = with_repeat(facts_of(filters), filters.fcr_days).aggregate(**_CONVERSATION_AGGREGATES)
    row.update(surveys_of(filters).aggregate(**_SURVEY_AGGREGATES))
    return _finish(row)


_GROUP_COLUMNS = {"channel": "channel", "team": "team_id", "agent": "agent_id", "intent": "intent"}


def breakdown(filters: Filters, by: str) -> list[dict[str, Any]]:
    """The measures per channel, team, agent or intent: ``key`` is the channel, id or intent."""
    column = _GROUP_COLUMNS[by]
    rows: dict[Any, dict[str, Any]] = {}
    facts = with_repeat(facts_of(filters), filters.fcr_days)
    for row in facts.values(column).annotate(**_CONVERSATION_AGGREGATES).order_by(column):
        rows[row.pop(column)] = row
    for row in surveys_of(filters).values(column).annotate(**_SURVEY_AGGREGATES).order_by(column):
        rows.setdefault(row.pop(column), {}).update(row)
    return [
        {"key": key, **_finish(row)}
        for key, row in sorted(rows.items(), key=lambda item: (item[0] is None, str(item[0])))
    ]


def daily(filters: Filters) -> list[dict[str, Any]]:
    """Per day of the period: conversations opened, resolved (of those), CSAT of surveys sent."""
    days: dict[date, dict[str, Any]] = {}
    day = filters.start
    while day <= filters.end:
        days[day] = {}
        day += timedelta(days=1)
    facts = with_repeat(facts_of(filters), filters.fcr_days)
    for row in (
        facts.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(**_CONVERSATION_AGGREGATES)
        .order_by("day")
    ):
        days.setdefault(row.pop("day"), {}).update(row)
    for row in (
        surveys_of(filters)
        .annotate(day=TruncDate("sent_at"))
        .values("day")
        .annotate(**_SURVEY_AGGREGATES)
        .order_by("day")
    ):
        days.setdefault(row.pop("day"), {}).update(row)
    return [{"day": day, **_finish(row)} for day, row in sorted(days.items())]


def csat_distribution(filters: Filters) -> dict[int, int]:
    counts = dict.fromkeys(range(1, 6), 0)
    for row in (
        surveys_of(filters)
        .filter(status=SurveyStatus.ANSWERED)
        .values("csat")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[row["csat"]] = row["n"]
    return counts


@dataclass(frozen=True)
class Report:
    filters: Filters
    summary: dict[str, Any]
    daily: list[dict[str, Any]]
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    distribution: dict[int, int] = field(default_factory=dict)


def build_report(filters: Filters, groups: tuple[str, ...] = GROUPS) -> Report:
    return Report(
        filters=filters,
        summary=summary(filters),
        daily=daily(filters),
        groups={by: breakdown(filters, by) for by in groups},
        distribution=csat_distribution(filters),
    )


__all__ = ["Filters", "Report", "breakdown", "build_report", "daily", "replace", "summary"]
