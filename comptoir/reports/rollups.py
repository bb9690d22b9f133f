"""Per-day roll-ups (``DayFigures``): what a report over a period reads instead of every row.

A report over 90 days reads ~90 rows per key of its grouping instead of every
conversation of the period (hundreds of thousands at a large brand). The
roll-ups are counts and sums, so any period adds them up; means and rates are
divided at the end (``measures``).

Groupings: the whole brand, each of channel, team, agent and intent, and each
pair of them, so that a report with one filter, grouped by one dimension, reads
one grouping (an agent's own page per channel: ``"agent,channel"``). Two
filters or more (plus a grouping) read ``ConversationFacts`` and surveys
instead (``accumulate`` over them, the same arithmetic), as does a window of
first-contact resolution other than the brand's (its FCR counts are stored
with the brand's window).

``refresh`` recomputes the days the catch-up touched (the opening and
resolution days of the conversations it derived again, before and after, and
the days their surveys were sent); ``rebuild`` recomputes a brand's every day.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from itertools import combinations
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from comptoir.reports.models import ConversationFacts, DayFigures
from comptoir.surveys.models import Survey, SurveySettings, SurveyStatus

DEFAULT_FCR_DAYS = 7
DIMENSIONS = ("channel", "team", "agent", "intent")
COLUMNS = {"channel": "channel", "team": "team_id", "agent": "agent_id", "intent": "intent"}

GROUPINGS: tuple[tuple[str, ...], ...] = (
    (),
    *((dimension,) for dimension in DIMENSIONS),
    *(tuple(sorted(pair)) for pair in combinations(DIMENSIONS, 2)),
)
COUNTERS = (
    "conversations",
    "resolved",
    "fcr",
    "resolved_contacts",
    "first_response_sum",
    "first_response_n",
    "resolution_sum",
    "resolution_n",
    "next_response_sum",
    "next_response_n",
    "wait_sum",
    "wait_n",
    "handle_sum",
    "handle_n",
    "sla_n",
    "sla_met",
    "assistant_n",
    "contained",
    "handoffs",
    "opened_epoch_sum",
    "closed",
    "closed_epoch_sum",
    "surveys_sent",
    "surveys_answered",
    "satisfied",
    "ces_sum",
    "ces_n",
    "csat_1",
    "csat_2",
    "csat_3",
    "csat_4",
    "csat_5",
)
FACT_FIELDS = (
    "brand_id",
    "channel",
    "team_id",
    "agent_id",
    "intent",
    "created_at",
    "resolved_at",
    "inbound_contacts",
    "next_conversation_at",
    "first_response_seconds",
    "resolution_seconds",
    "next_response_seconds_total",
    "next_responses",
    "wait_seconds",
    "handle_seconds",
    "has_sla",
    "sla_breached",
    "assistant_answered",
    "assistant_handoff",
    "first_response_at",
)
SURVEY_FIELDS = ("brand_id", "channel", "team_id", "agent_id", "intent", "sent_at", "status")
SURVEY_FIELDS += ("csat", "ces")
COUNTED_SURVEYS = (SurveyStatus.SENT, SurveyStatus.ANSWERED)


def grouping_name(dimensions: Iterable[str]) -> str:
    return ",".join(sorted(set(dimensions)))


def fcr_days_of(brand_id: int) -> int:
    """The brand's first-contact-resolution window (``SurveySettings.fcr_days``)."""
    days = (
        SurveySettings.objects.filter(brand_id=brand_id).values_list("fcr_days", flat=True).first()
    )
    return days or DEFAULT_FCR_DAYS


def day_of(moment: datetime) -> date:
    """The day a moment counts in: in the site's time zone (``TIME_ZONE``), whoever asks."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), zone)
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), zone)


def days_of(rows: Iterable[tuple[int, datetime, datetime | None]]) -> set[tuple[int, date]]:
    """(brand, day) of each opening and resolution of these (brand, created_at, resolved_at)."""
    found = set()
    for brand_id, created_at, resolved_at in rows:
        found.add((brand_id, day_of(created_at)))
        if resolved_at is not None:
            found.add((brand_id, day_of(resolved_at)))
    return found


def is_fcr(fact: dict[str, Any], fcr_days: int) -> bool:
    """Resolved at one customer contact, and the person did not come back within the window."""
    if fact["resolved_at"] is None or fact["inbound_contacts"] > 1:
        return False
    following = fact["next_conversation_at"]
    return following is None or following > fact["resolved_at"] + timedelta(days=fcr_days)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _opened_counters(fact: dict[str, Any], fcr_days: int) -> dict[str, int]:
    resolved = fact["resolved_at"] is not None
    engaged = fact["assistant_answered"] or fact["assistant_handoff"]
    counts = {
        "conversations": 1,
        "resolved": int(resolved),
        "fcr": int(is_fcr(fact, fcr_days)),
        "resolved_contacts": fact["inbound_contacts"] if resolved else 0,
        "next_response_sum": fact["next_response_seconds_total"],
        "next_response_n": fact["next_responses"],
        "sla_n": int(fact["has_sla"] and resolved),
        "sla_met": int(fact["has_sla"] and resolved and not fact["sla_breached"]),
        "assistant_n": int(engaged),
        "contained": int(
            fact["assistant_answered"]
            and not fact["assistant_handoff"]
            and fact["first_response_at"] is None
        ),
        "handoffs": int(fact["assistant_handoff"]),
        "opened_epoch_sum": _epoch(fact["created_at"]),
    }
    for name, field in (
        ("first_response", "first_response_seconds"),
        ("resolution", "resolution_seconds"),
        ("wait", "wait_seconds"),
        ("handle", "handle_seconds"),
    ):
        if fact[field] is not None:
            counts[f"{name}_sum"] = fact[field]
            counts[f"{name}_n"] = 1
    return counts


def _survey_counters(survey: dict[str, Any]) -> dict[str, int]:
    counts = {"surveys_sent": 1}
    if survey["status"] == SurveyStatus.ANSWERED and survey["csat"] is not None:
        counts["surveys_answered"] = 1
        counts["satisfied"] = int(survey["csat"] >= 4)
        counts[f"csat_{survey['csat']}"] = 1
        if survey["ces"] is not None:
            counts["ces_sum"] = survey["ces"]
            counts["ces_n"] = 1
    return counts


Key = tuple[int, date, str, str, int | None, int | None, str]


def accumulate(
    facts: Iterable[dict[str, Any]],
    surveys: Iterable[dict[str, Any]],
    fcr_days: int | dict[int, int],
    *,
    groupings: Iterable[tuple[str, ...]] = GROUPINGS,
    keep: set[tuple[int, date]] | None = None,
) -> dict[Key, dict[str, int]]:
    """Counters per (brand, day, grouping, channel, team, agent, intent), for the days kept.

    ``fcr_days``: one window, or each brand's.
    """
    # Per grouping: its name and which of channel, team, agent, intent it keeps.
    plans = [
        (grouping_name(grouping), tuple(d in grouping for d in DIMENSIONS))
        for grouping in groupings
    ]
    found: dict[Key, dict[str, int]] = {}

    def add(row: dict[str, Any], day: date, counts: dict[str, int]) -> None:
        brand_id = row["brand_id"]
        if keep is not None and (brand_id, day) not in keep:
            return
        counts = [(name, value) for name, value in counts.items() if value]
        for name, (channel, team, agent, intent) in plans:
            key = (
                brand_id,
                day,
                name,
                row["channel"] if channel else "",
                row["team_id"] if team else None,
                row["agent_id"] if agent else None,
                row["intent"] if intent else "",
            )
            target = found.get(key)
            if target is None:
                target = found[key] = dict.fromkeys(COUNTERS, 0)
            for counter, value in counts:
                target[counter] += value

    for fact in facts:
        window = fcr_days if isinstance(fcr_days, int) else fcr_days[fact["brand_id"]]
        add(fact, day_of(fact["created_at"]), _opened_counters(fact, window))
        if fact["resolved_at"] is not None:
            closed = {"closed": 1, "closed_epoch_sum": _epoch(fact["created_at"])}
            add(fact, day_of(fact["resolved_at"]), closed)
    for survey in surveys:
        add(survey, day_of(survey["sent_at"]), _survey_counters(survey))
    return found


_ROW_COLUMNS = (
    "brand_id",
    "day",
    "grouping",
    "channel",
    "team_id",
    "agent_id",
    "intent",
    "fcr_days",
    *COUNTERS,
)


def _write(found: dict[Key, dict[str, int]], fcr_days: dict[int, int]) -> int:
    """Insert these rows: ``COPY`` on PostgreSQL (a day is ~1,000 rows at a large brand;
    a rebuild hundreds of thousands), ``bulk_create`` elsewhere."""
    rows = (
        (*key, fcr_days[key[0]], *(counts[name] for name in COUNTERS))
        for key, counts in found.items()
    )
    if connection.vendor == "postgresql":
        columns = ", ".join(_ROW_COLUMNS)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {DayFigures._meta.db_table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    else:
        DayFigures.objects.bulk_create(
            (DayFigures(**dict(zip(_ROW_COLUMNS, row, strict=True))) for row in rows),
            batch_size=2000,
        )
    return len(found)


def _counted_surveys():
    return Survey.objects.filter(status__in=COUNTED_SURVEYS, sent_at__isnull=False)


# Days recomputed per query: each day is one OR-ed range.
_DAYS_PER_QUERY = 31


def refresh(touched: set[tuple[int, date]]) -> None:
    """Recompute the roll-ups of these (brand, day): rows deleted and written again."""
    per_brand: dict[int, list[date]] = defaultdict(list)
    for brand_id, day in touched:
        per_brand[brand_id].append(day)
    for brand_id, days in per_brand.items():
        window = {brand_id: fcr_days_of(brand_id)}
        days.sort()
        for start in range(0, len(days), _DAYS_PER_QUERY):
            chunk = days[start : start + _DAYS_PER_QUERY]
            opened = Q()
            sent = Q()
            for day in chunk:
                low, high = day_bounds(day)
                opened |= Q(created_at__gte=low, created_at__lt=high)
                opened |= Q(resolved_at__gte=low, resolved_at__lt=high)
                sent |= Q(sent_at__gte=low, sent_at__lt=high)
            facts = ConversationFacts.objects.filter(opened, brand_id=brand_id)
            surveys = _counted_surveys().filter(sent, brand_id=brand_id)
            found = accumulate(
                facts.values(*FACT_FIELDS),
                surveys.values(*SURVEY_FIELDS),
                window,
                keep={(brand_id, day) for day in chunk},
            )
            with transaction.atomic():
                DayFigures.objects.filter(brand_id=brand_id, day__in=chunk).delete()
                _write(found, window)


def rebuild(brand_id: int) -> int:
    """Every day of the brand recomputed from its facts and surveys; how many rows."""
    window = {brand_id: fcr_days_of(brand_id)}
    found = accumulate(
        ConversationFacts.objects.filter(brand_id=brand_id)
        .values(*FACT_FIELDS)
        .iterator(chunk_size=5000),
        _counted_surveys().filter(brand_id=brand_id).values(*SURVEY_FIELDS).iterator(5000),
        window,
    )
    with transaction.atomic():
        DayFigures.objects.filter(brand_id=brand_id).delete()
        return _write(found, window)


def survey_days(conversation_ids: Iterable[int]) -> set[tuple[int, date]]:
    """(brand, day) of the sending of these conversations' counted surveys."""
    return {
        (brand_id, day_of(sent_at))
        for brand_id, sent_at in _counted_surveys()
        .filter(conversation_id__in=list(conversation_ids))
        .values_list("brand_id", "sent_at")
    }


def backlog_sums(query, column: str | None) -> dict[Any, tuple[int, int]]:
    """Per key: (opened minus closed, their openings' epoch sum) over these day rows."""
    sums = {
        "opened": Sum("conversations"),
        "closed_n": Sum("closed"),
        "opened_epoch": Sum("opened_epoch_sum"),
        "closed_epoch": Sum("closed_epoch_sum"),
    }
    rows = query.values(column).annotate(**sums).order_by() if column else [query.aggregate(**sums)]
    found = {}
    for row in rows:
        key = row[column] if column else None
        found[key] = (
            (row["opened"] or 0) - (row["closed_n"] or 0),
            (row["opened_epoch"] or 0) - (row["closed_epoch"] or 0),
        )
    return found


def rebuild_changed_windows() -> list[int]:
    """Rebuild the brands whose FCR window changed since their roll-ups were counted; which.

    Until then their reports read the facts (right, slower): ``measures`` checks the window.
    """
    windows = dict(SurveySettings.objects.values_list("brand_id", "fcr_days"))
    stale = sorted(
        {
            brand_id
            for brand_id, days in DayFigures.objects.values_list("brand_id", "fcr_days")
            .order_by()
            .distinct()
            if days != (windows.get(brand_id) or DEFAULT_FCR_DAYS)
        }
    )
    for brand_id in stale:
        rebuild(brand_id)
    return stale
