"""The reports page of the console, its drill-down and its CSV exports.

Supervisors and administrators see their brand; agents see their own figures
(``filters.parse_filters``). The figures come from ``measures``; the charts are
inline SVG drawn on the server (``charts``).
"""

import csv
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from comptoir.conversations.models import Channel, Contact
from comptoir.reports.charts import bar_chart
from comptoir.reports.facts import catch_up
from comptoir.reports.filters import parse_filters
from comptoir.reports.measures import (
    Filters,
    build_report,
    facts_of,
    is_fcr,
    with_repeat,
)
from comptoir.reports.models import ConversationFacts
from comptoir.surveys.models import FollowUp, Survey
from comptoir.tenancy.access import request_membership
from comptoir.tenancy.models import Membership, Team

DRILL_LIMIT = 200
# A page reads what the log added since the last periodic catch-up, up to this many batches.
VIEW_CATCH_UP_BATCHES = 5
DRILLS = (
    "all",
    "resolved",
    "unresolved",
    "fcr",
    "not_fcr",
    "low_csat",
    "sla_breached",
    "backlog",
    "handoff",
)


def drill_down(filters: Filters, drill: str) -> QuerySet[ConversationFacts]:
    """The conversations behind a figure, newest first."""
    facts = with_repeat(facts_of(filters), filters.fcr_days)
    if drill == "backlog":  # open at the period's end, whenever opened
        facts = with_repeat(facts_of(filters, since=None), filters.fcr_days).filter(
            Q(resolved_at__isnull=True) | Q(resolved_at__gte=filters.until)
        )
    elif drill == "sla_breached":
        facts = facts.filter(sla_breached=True)
    elif drill == "handoff":
        facts = facts.filter(assistant_handoff=True)
    elif drill == "resolved":
        facts = facts.filter(resolved_at__isnull=False)
    elif drill == "unresolved":
        facts = facts.filter(resolved_at__isnull=True)
    elif drill == "fcr":
        facts = facts.filter(is_fcr())
    elif drill == "not_fcr":
        facts = facts.filter(resolved_at__isnull=False).exclude(is_fcr())
    elif drill == "low_csat":
        facts = facts.filter(conversation__surveys__csat__lte=2).distinct()
    return facts.select_related("conversation__customer").order_by("-created_at")


def _names(membership: Membership) -> tuple[dict[int, str], dict[int, str]]:
    teams = dict(Team.objects.filter(brand_id=membership.brand_id).values_list("pk", "name"))
    agents = {
        m.pk: m.display_name
        for m in Membership.objects.filter(brand_id=membership.brand_id).select_related("user")
    }
    return teams, agents


# What a row without a team, an agent or an intent stands for.
NO_KEY_LABELS = {
    "team": gettext_lazy("No team"),
    "agent": gettext_lazy("Nobody (not handled by an agent)"),
    "intent": gettext_lazy("No intent recognised"),
}


def _label(by: str, key: Any, teams: dict, agents: dict) -> str:
    if key in (None, ""):
        return str(NO_KEY_LABELS.get(by, gettext_lazy("None")))
    if by == "channel":
        return str(Channel(key).label) if key in Channel.values else str(key)
    if by == "team":
        return teams.get(key, f"#{key}")
    if by == "agent":
        return agents.get(key, f"#{key}")
    return str(key)


@require_safe
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    filters = parse_filters(membership, request.GET)
    catch_up(max_batches=VIEW_CATCH_UP_BATCHES)
    report = build_report(filters)
    teams, agents = _names(membership)
    groups = {
        by: [{**row, "label": _label(by, row["key"], teams, agents)} for row in rows]
        for by, rows in report.groups.items()
    }
    daily_chart = bar_chart(
        [(day["day"].strftime("%d/%m"), day["conversations"]) for day in report.daily],
        line=[day["csat"] for day in report.daily],
    )
    channel_chart = bar_chart([(row["label"], row["conversations"]) for row in groups["channel"]])
    csat_chart = bar_chart([(str(score), n) for score, n in report.distribution.items()])
    backlog_chart = bar_chart(
        [(day["day"].strftime("%d/%m"), day["backlog"]) for day in report.daily]
    )
    team_chart = bar_chart([(row["label"], row["conversations"]) for row in groups["team"]])
    drill = request.GET.get("drill", "")
    drilled = list(drill_down(filters, drill)[:DRILL_LIMIT]) if drill in DRILLS else None
    follow_ups = []
    if membership.is_supervisor:
        follow_ups = list(
            FollowUp.objects.filter(brand_id=membership.brand_id, done_at__isnull=True)
            .select_related("survey__conversation__customer")
            .order_by("-created_at")[:50]
        )
    query = request.GET.copy()
    query.pop("drill", None)
    return render(
        request,
        "reports/overview.html",
        {
            "membership": membership,
            "filters": filters,
            "report": report,
            "groups": groups,
            "daily_chart": daily_chart,
            "channel_chart": channel_chart,
            "csat_chart": csat_chart,
            "backlog_chart": backlog_chart,
            "team_chart": team_chart,
            "drill": drill,
            "drilled": drilled,
            "follow_ups": follow_ups,
            "channels": Channel.choices,
            "teams": sorted(teams.items(), key=lambda item: item[1]),
            "agents": sorted(agents.items(), key=lambda item: item[1]),
            "query": query.urlencode(),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            # A cell starting with = + - @ is a formula to a spreadsheet: quote it as text.
            yield writer.writerow(
                ["'" + c if isinstance(c, str) and c[:1] in "=+-@" else c for c in row]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
@login_required
def export(request: HttpRequest) -> HttpResponse:
    """CSV: one row per conversation (``?rows=conversations``) or per contact (``contacts``)."""
    membership = request_membership(request)
    filters = parse_filters(membership, request.GET)
    catch_up(max_batches=VIEW_CATCH_UP_BATCHES)
    facts = with_repeat(facts_of(filters), filters.fcr_days).order_by("created_at", "pk")
    if request.GET.get("rows") == "contacts":
        contacts = (
            Contact.objects.filter(conversation__facts__in=facts.values("pk"))
            .select_related("survey")
            .order_by("started_at", "pk")
        )
        return _csv(
            "contacts.csv",
            [
                "contact_id",
                "conversation_id",
                "channel",
                "direction",
                "started_at",
                "first_response_at",
                "ended_at",
                "csat",
                "ces",
            ],
            (
                [
                    c.pk,
                    c.conversation_id,
                    c.channel,
                    c.direction,
                    _iso(c.started_at),
                    _iso(c.first_response_at),
                    _iso(c.ended_at),
                    *_survey_cells(c),
                ]
                for c in contacts.iterator(chunk_size=2000)
            ),
        )
    surveys = Survey.objects.filter(conversation__facts__in=facts.values("pk"), csat__isnull=False)
    answers = {}
    for survey in surveys.order_by("answered_at").values("conversation_id", "csat", "ces"):
        answers[survey["conversation_id"]] = survey
    return _csv(
        "conversations.csv",
        [
            "conversation_id",
            "channel",
            "team_id",
            "agent_id",
            "intent",
            "created_at",
            "first_response_seconds",
            "resolved_at",
            "resolution_seconds",
            "next_responses",
            "next_response_seconds_total",
            "wait_seconds",
            "handle_seconds",
            "under_sla",
            "sla_breached",
            "assistant_answered",
            "assistant_handoff",
            "inbound_contacts",
            "first_contact_resolution",
            "csat",
            "ces",
        ],
        (
            [
                f.conversation_id,
                f.channel,
                f.team_id,
                f.agent_id,
                f.intent,
                _iso(f.created_at),
                f.first_response_seconds,
                _iso(f.resolved_at),
                f.resolution_seconds,
                f.next_responses,
                f.next_response_seconds_total,
                f.wait_seconds,
                f.handle_seconds,
                f.has_sla,
                f.sla_breached,
                f.assistant_answered,
                f.assistant_handoff,
                f.inbound_contacts,
                bool(f.resolved_at and f.inbound_contacts <= 1 and not f.repeat),
                answers.get(f.conversation_id, {}).get("csat"),
                answers.get(f.conversation_id, {}).get("ces"),
            ]
            for f in facts.iterator(chunk_size=2000)
        ),
    )


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _survey_cells(contact: Contact) -> list:
    survey = getattr(contact, "survey", None)
    if survey is None:
        return ["", ""]
    return [survey.csat or "", survey.ces or ""]
