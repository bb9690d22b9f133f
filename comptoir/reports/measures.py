"""The measures of the reports, from the conversations' figures and the survey answers.

- **FCR** (first-contact resolution): a resolved conversation with one customer
  contact, and no new conversation of the same person (whatever the channel; a
  merged customer's conversations are theirs) within the brand's window
  (``SurveySettings.fcr_days``, 7 by default) after its resolution.
- **Contacts per resolution**: the customers' contacts of resolved conversations
  divided by their number.
- **First response** and **resolution** times: averages in seconds, from the
  conversation's opening. **Next response**: the mean wait of a customer for
  each later reply (from their oldest unanswered message). **Wait**: from the
  opening until an agent took it (assigned to a person, or a call answered);
  **handle**: from then to the resolution.
- **Share within SLA**: resolved conversations under an SLA policy none of whose
  targets was breached, over the resolved ones under a policy.
- **Backlog**: conversations open at the end of the period (of each day in
  ``daily``), whenever opened, and their mean **age** then.
- **Assistant containment**: conversations the assistant answered, never handed
  to a person and no agent replied to, over those it answered or handed off;
  **handoff rate**: the handed-off ones over the same.
- **CSAT**: the share of answers scoring 4 or 5; **CES**: the mean effort score
  (1-7); **response rate**: answers over surveys sent.

Conversations count in the period they were opened; surveys in the period they
were sent. Every function takes one ``Filters`` (brand, period, channel, team,
agent, intent). They read the per-day roll-ups (``rollups``) when one grouping
holds the filters, else the facts (``rollups.accumulate``: the same arithmetic).
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import BooleanField, DateTimeField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from comptoir.reports import rollups
from comptoir.reports.models import ConversationFacts, DayFigures
from comptoir.reports.rollups import DEFAULT_FCR_DAYS, fcr_days_of
from comptoir.surveys.models import Survey, SurveyStatus

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
        return rollups.day_bounds(self.start)[0]

    @property
    def until(self) -> datetime:
        return rollups.day_bounds(self.end)[1]


def facts_of(filters: Filters, *, since: Any = "period") -> QuerySet[ConversationFacts]:
    """The filtered conversations opened in the period (``since=None``: up to its end)."""
    found = ConversationFacts.objects.filter(
        brand_id=filters.brand_id, created_at__lt=filters.until
    )
    if since is not None:
        found = found.filter(created_at__gte=filters.since)
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


def _source(filters: Filters, by: str | None, facts_only: bool = False) -> "Source":
    """The period's day rows (with ``by``'s column) and the backlog before the period per key.

    From the roll-ups when one grouping holds the filters and ``by`` and was
    counted with this FCR window; else (or ``facts_only``) from the facts and
    surveys themselves, with the same arithmetic.
    """
    column = rollups.COLUMNS[by] if by else None
    dimensions = [name for name, value in _filter_values(filters).items() if value]
    dimensions += [by] if by else []
    fields = ["day", "fcr_days", *rollups.COUNTERS, *([column] if column else [])]
    if len(set(dimensions)) <= 2 and not facts_only:
        query = DayFigures.objects.filter(
            brand_id=filters.brand_id, grouping=rollups.grouping_name(dimensions)
        )
        for name, value in _filter_values(filters).items():
            if value:
                query = query.filter(**{rollups.COLUMNS[name]: value})
        period = list(query.filter(day__gte=filters.start, day__lte=filters.end).values(*fields))
        if all(row["fcr_days"] == filters.fcr_days for row in period):
            return period, rollups.backlog_sums(query.filter(day__lt=filters.start), column)
    found = rollups.accumulate(
        facts_of(filters, since=None).values(*rollups.FACT_FIELDS),
        surveys_of(filters).values(*rollups.SURVEY_FIELDS),
        filters.fcr_days,
        groupings=[(by,) if by else ()],
    )
    period, before = [], {}
    for (_, day, _, channel, team_id, agent_id, intent), counts in found.items():
        values = {"channel": channel, "team_id": team_id, "agent_id": agent_id, "intent": intent}
        if day < filters.start:
            key = values[column] if column else None
            opened, epoch = before.get(key, (0, 0))
            before[key] = (
                opened + counts["conversations"] - counts["closed"],
                epoch + counts["opened_epoch_sum"] - counts["closed_epoch_sum"],
            )
        elif day <= filters.end:
            period.append({"day": day, **counts, **({column: values[column]} if column else {})})
    return period, before


def _filter_values(filters: Filters) -> dict[str, Any]:
    return {
        "channel": filters.channel,
        "team": filters.team_id,
        "agent": filters.agent_id,
        "intent": filters.intent,
    }


def _add(total: dict[str, int], row: dict[str, Any]) -> dict[str, int]:
    for name in rollups.COUNTERS:
        total[name] = total.get(name, 0) + (row.get(name) or 0)
    return total


def _backlog(counts: dict[str, int], before: tuple[int, int]) -> tuple[int, int]:
    """Open conversations at the end of ``counts``'s days, and their openings' epoch sum."""
    return (
        before[0] + counts.get("conversations", 0) - counts.get("closed", 0),
        before[1] + counts.get("opened_epoch_sum", 0) - counts.get("closed_epoch_sum", 0),
    )


def _ratio(part: float | None, whole: float | None) -> float | None:
    if not whole:
        return None
    return round(100 * (part or 0) / whole, 1)


def _mean(counts: dict[str, int], name: str) -> int | None:
    n = counts.get(f"{name}_n") or 0
    return round(counts.get(f"{name}_sum", 0) / n) if n else None


def _finish(counts: dict[str, int], backlog: tuple[int, int], at: datetime) -> dict[str, Any]:
    """Counts into the rates and rounded means the pages and the API show.

    ``backlog``: the conversations still open at ``at`` and their openings' epoch sum.
    """
    resolved = counts.get("resolved") or 0
    answered = counts.get("surveys_answered") or 0
    ces_n = counts.get("ces_n") or 0
    open_now, epoch_sum = backlog
    return {
        "conversations": counts.get("conversations") or 0,
        "resolved": resolved,
        "fcr": counts.get("fcr") or 0,
        "fcr_rate": _ratio(counts.get("fcr"), resolved),
        "contacts_per_resolution": (
            round((counts.get("resolved_contacts") or 0) / resolved, 2) if resolved else None
        ),
        "first_response_seconds": _mean(counts, "first_response"),
        "next_response_seconds": _mean(counts, "next_response"),
        "resolution_seconds": _mean(counts, "resolution"),
        "wait_seconds": _mean(counts, "wait"),
        "handle_seconds": _mean(counts, "handle"),
        "sla_rate": _ratio(counts.get("sla_met"), counts.get("sla_n")),
        "backlog": open_now,
        "backlog_age_seconds": (
            max(round(at.timestamp() - epoch_sum / open_now), 0) if open_now > 0 else None
        ),
        "assistant_conversations": counts.get("assistant_n") or 0,
        "containment_rate": _ratio(counts.get("contained"), counts.get("assistant_n")),
        "handoff_rate": _ratio(counts.get("handoffs"), counts.get("assistant_n")),
        "surveys_sent": counts.get("surveys_sent") or 0,
        "surveys_answered": answered,
        "response_rate": _ratio(answered, counts.get("surveys_sent")),
        "csat": _ratio(counts.get("satisfied"), answered),
        "ces": round(counts.get("ces_sum", 0) / ces_n, 2) if ces_n else None,
    }


def _until_now(moment: datetime) -> datetime:
    return min(moment, timezone.now())


Source = tuple[list[dict[str, Any]], dict[Any, Any]]


def summary(
    filters: Filters, *, facts_only: bool = False, source: Source | None = None
) -> dict[str, Any]:
    """Every measure over the filtered conversations and surveys; the backlog at the end.

    ``source``: the brand-wide day rows already read (``build_report`` reads them once).
    """
    period, before = source or _source(filters, None, facts_only)
    counts: dict[str, int] = {}
    for row in period:
        _add(counts, row)
    backlog = _backlog(counts, before.get(None, (0, 0)))
    return _finish(counts, backlog, _until_now(filters.until))


def breakdown(filters: Filters, by: str, *, facts_only: bool = False) -> list[dict[str, Any]]:
    """The measures per channel, team, agent or intent: ``key`` is the channel, id or intent."""
    column = rollups.COLUMNS[by]
    period, before = _source(filters, by, facts_only)
    rows: dict[Any, dict[str, int]] = {}
    for row in period:
        _add(rows.setdefault(row[column], {}), row)
    for key, (opened, _) in before.items():
        if opened > 0:
            rows.setdefault(key, {})
    at = _until_now(filters.until)
    return [
        {"key": key, **_finish(counts, _backlog(counts, before.get(key, (0, 0))), at)}
        for key, counts in sorted(rows.items(), key=lambda item: (item[0] is None, str(item[0])))
    ]


def daily(
    filters: Filters, *, facts_only: bool = False, source: Source | None = None
) -> list[dict[str, Any]]:
    """Per day of the period: conversations opened (and their measures), surveys sent that
    day, and the backlog at the day's end."""
    period, before = source or _source(filters, None, facts_only)
    days: dict[date, dict[str, int]] = {}
    day = filters.start
    while day <= filters.end:
        days[day] = {}
        day += timedelta(days=1)
    for row in period:
        _add(days.setdefault(row["day"], {}), row)
    found = []
    backlog = before.get(None, (0, 0))
    for day, counts in sorted(days.items()):
        backlog = _backlog(counts, backlog)
        end_of_day = rollups.day_bounds(day)[1]
        found.append({"day": day, **_finish(counts, backlog, _until_now(end_of_day))})
    return found


def csat_distribution(
    filters: Filters, *, facts_only: bool = False, source: Source | None = None
) -> dict[int, int]:
    period, _ = source or _source(filters, None, facts_only)
    counts = dict.fromkeys(range(1, 6), 0)
    for row in period:
        for score in counts:
            counts[score] += row[f"csat_{score}"] or 0
    return counts


@dataclass(frozen=True)
class Report:
    filters: Filters
    summary: dict[str, Any]
    daily: list[dict[str, Any]]
    groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    distribution: dict[int, int] = field(default_factory=dict)


def build_report(filters: Filters, groups: tuple[str, ...] = GROUPS) -> Report:
    whole = _source(filters, None)
    return Report(
        filters=filters,
        summary=summary(filters, source=whole),
        daily=daily(filters, source=whole),
        groups={by: breakdown(filters, by) for by in groups},
        distribution=csat_distribution(filters, source=whole),
    )


__all__ = [
    "Filters",
    "Report",
    "breakdown",
    "build_report",
    "daily",
    "fcr_days_of",
    "replace",
    "summary",
]
