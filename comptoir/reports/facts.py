"""A conversation's figures, read from its events: the one derivation, live or rebuilt.

``catch_up`` (every few seconds, and before a report is shown) derives again the
conversations that have new events past its watermark; ``rebuild`` runs the same
derivation over every conversation of a brand. The hot paths queue nothing: the
log is read afterwards, in batches.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils.dateparse import parse_datetime

from comptoir.conversations.models import Contact, Conversation, Direction
from comptoir.events import kinds
from comptoir.events.actors import ActorKind
from comptoir.events.models import Event
from comptoir.reports import rollups
from comptoir.reports.models import ConversationFacts, FactsWatermark
from comptoir.sla.models import ConversationSla

# The kinds that move a figure: what the catch-up reads.
FACT_KINDS = (
    kinds.CONVERSATION_CREATED,
    kinds.MESSAGE_CREATED,
    kinds.CONVERSATION_UPDATED,
    kinds.CONVERSATION_ASSIGNED,
    kinds.CALL_UPDATED,
    kinds.SLA_BREACHED,
    *kinds.ASSISTANT_OUTCOMES.values(),
)
# Survey events move no conversation figure but the days' survey counters (``rollups``).
SURVEY_KINDS = (kinds.SURVEY_SENT, kinds.SURVEY_ANSWERED)
_FACT_KIND_NAMES = [kind.name for kind in FACT_KINDS]
_READ_KIND_NAMES = _FACT_KIND_NAMES + [kind.name for kind in SURVEY_KINDS]
_ASSISTANT_KIND_NAMES = {kind.name for kind in kinds.ASSISTANT_OUTCOMES.values()}
# A person's conversations change hands: their first-contact resolutions change.
_PERSON_KIND_NAMES = [kinds.CUSTOMER_MERGED.name, kinds.CUSTOMER_UNMERGED.name]
_OPENED = kinds.CONVERSATION_CREATED.name
# The longest first-contact-resolution window a brand may set (``SurveySettings.fcr_days``).
MAX_FCR_WINDOW = timedelta(days=90)


def _at(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(int((end - start).total_seconds()), 0)


def derive(
    events: list[Event], conversation: Conversation, inbound_contacts: int, has_sla: bool = False
) -> dict[str, Any]:
    """The figures of one conversation from its events, oldest first.

    ``has_sla``: the conversation is under an SLA policy (read from ``sla``, which
    appends no event when it applies one); its breaches come from the log.
    """
    figures: dict[str, Any] = {
        "brand_id": conversation.brand_id,
        "channel": conversation.channel,
        "team_id": None,
        "agent_id": None,
        "intent": "",
        "created_at": conversation.created_at,
        "first_response_at": None,
        "resolved_at": None,
        "auto_closed": False,
        "inbound_contacts": inbound_contacts,
        "next_response_seconds_total": 0,
        "next_responses": 0,
        "taken_at": None,
        "has_sla": has_sla,
        "sla_breached": False,
        "assistant_answered": False,
        "assistant_handoff": False,
    }
    replier = assignee = None
    # Since when the customer waits for a next response (their oldest unanswered message).
    waiting_since: datetime | None = None

    def taken(at: datetime | None) -> None:
        if at is not None and (figures["taken_at"] is None or at < figures["taken_at"]):
            figures["taken_at"] = at

    for event in events:
        payload = event.payload
        if event.kind == kinds.CONVERSATION_CREATED.name:
            figures["channel"] = payload["channel"]
            figures["created_at"] = _at(payload["created_at"]) or figures["created_at"]
        elif event.kind == kinds.MESSAGE_CREATED.name:
            is_reply = (
                payload["author_kind"] == "agent"
                and payload["direction"] == "out"
                and not payload["is_internal_note"]
            )
            at = _at(payload["created_at"])
            if is_reply:
                replier = event.actor_id or replier
                if figures["first_response_at"] is None:
                    figures["first_response_at"] = at
                elif waiting_since is not None:
                    figures["next_response_seconds_total"] += _seconds(waiting_since, at) or 0
                    figures["next_responses"] += 1
                waiting_since = None
            elif (
                payload["author_kind"] == "customer"
                and figures["first_response_at"] is not None
                and waiting_since is None
            ):
                waiting_since = at
        elif event.kind == kinds.CONVERSATION_UPDATED.name:
            assignee = payload["assignee_id"]
            figures["team_id"] = payload["team_id"]
            if payload["status"] == "resolved":
                if figures["resolved_at"] is None:
                    figures["resolved_at"] = event.created_at
                    figures["auto_closed"] = event.actor_kind == ActorKind.SYSTEM
                    if event.actor_kind == ActorKind.AGENT and event.actor_id:
                        replier = replier or event.actor_id
            else:
                figures["resolved_at"] = None
                figures["auto_closed"] = False
        elif event.kind == kinds.CONVERSATION_ASSIGNED.name:
            assignee = payload["assignee_id"]
            figures["team_id"] = payload["team_id"]
            if assignee:
                taken(_at(payload["assigned_at"]))
        elif event.kind == kinds.CALL_UPDATED.name:
            if payload["agent_id"] and payload["answered_at"]:
                replier = payload["agent_id"]
                answered = _at(payload["answered_at"])
                taken(answered)
                if figures["first_response_at"] is None or (
                    answered and answered < figures["first_response_at"]
                ):
                    figures["first_response_at"] = answered
        elif event.kind == kinds.SLA_BREACHED.name:
            figures["sla_breached"] = True
        elif event.kind in _ASSISTANT_KIND_NAMES:
            if payload.get("intent"):
                figures["intent"] = str(payload["intent"])[:120]
            if event.kind == kinds.ASSISTANT_ANSWERED.name:
                figures["assistant_answered"] = True
            elif event.kind == kinds.ASSISTANT_HANDOFF.name:
                figures["assistant_handoff"] = True
    # Who handled it: the last agent who answered the customer, else who holds it.
    figures["agent_id"] = replier or assignee
    figures["first_response_seconds"] = _seconds(
        figures["created_at"], figures["first_response_at"]
    )
    figures["resolution_seconds"] = _seconds(figures["created_at"], figures["resolved_at"])
    figures["wait_seconds"] = _seconds(figures["created_at"], figures["taken_at"])
    figures["handle_seconds"] = _seconds(figures["taken_at"], figures["resolved_at"])
    return figures


def _inbound_contacts(conversation_ids: list[int]) -> dict[int, int]:
    rows = (
        Contact.objects.filter(conversation_id__in=conversation_ids, direction=Direction.INBOUND)
        .values("conversation_id")
        .annotate(n=Count("pk"))
    )
    return {row["conversation_id"]: row["n"] for row in rows}


def _under_sla(conversation_ids: list[int]) -> set[int]:
    return set(
        ConversationSla.objects.filter(
            conversation_id__in=conversation_ids, policy__isnull=False
        ).values_list("conversation_id", flat=True)
    )


def _next_conversations(
    conversations: dict[int, Conversation], figures: dict[int, dict[str, Any]]
) -> dict[int, datetime]:
    """For each resolved conversation, when its person next opened another one (if ever)."""
    resolved = {pk: f["resolved_at"] for pk, f in figures.items() if f["resolved_at"] is not None}
    customers = {conversations[pk].customer_id for pk in resolved}
    opened: dict[int, list[tuple[datetime, int]]] = {}
    for pk, customer_id, created_at in Conversation.objects.filter(
        customer_id__in=customers
    ).values_list("pk", "customer_id", "created_at"):
        opened.setdefault(customer_id, []).append((created_at, pk))
    found = {}
    for pk, resolved_at in resolved.items():
        later = [
            created_at
            for created_at, other in opened.get(conversations[pk].customer_id, ())
            if other != pk and created_at > resolved_at
        ]
        if later:
            found[pk] = min(later)
    return found


def refresh_many(conversation_ids: list[int]) -> None:
    """Derive these conversations' figures again from their events and store them."""
    conversations = Conversation.objects.in_bulk(conversation_ids)
    ids = sorted(conversations)
    contacts = _inbound_contacts(ids)
    under_sla = _under_sla(ids)
    events: dict[int, list[Event]] = {pk: [] for pk in ids}
    for event in Event.objects.filter(conversation_id__in=ids, kind__in=_FACT_KIND_NAMES).order_by(
        "pk"
    ):
        events[event.conversation_id].append(event)
    figures = {
        pk: derive(events[pk], conversations[pk], contacts.get(pk, 0), pk in under_sla)
        for pk in ids
    }
    following = _next_conversations(conversations, figures)
    with transaction.atomic():
        old = ConversationFacts.objects.filter(conversation_id__in=conversation_ids)
        touched = rollups.days_of(old.values_list("brand_id", "created_at", "resolved_at"))
        touched.update(
            rollups.days_of(
                (f["brand_id"], f["created_at"], f["resolved_at"]) for f in figures.values()
            )
        )
        touched.update(rollups.survey_days(ids))
        old.delete()
        ConversationFacts.objects.bulk_create(
            ConversationFacts(
                conversation_id=pk, next_conversation_at=following.get(pk), **figures[pk]
            )
            for pk in ids
        )
        rollups.refresh(touched)


def rebuild(brand_id: int, *, batch: int = 500) -> int:
    """Every conversation's figures of the brand derived from the log again; how many."""
    ids = list(
        Conversation.objects.filter(brand_id=brand_id).order_by("pk").values_list("pk", flat=True)
    )
    for start in range(0, len(ids), batch):
        refresh_many(ids[start : start + batch])
    return len(ids)


# Events committed out of id order (a longer transaction took a lower id) are caught by
# reading again this many ids below the watermark at each catch-up.
LATE_COMMIT_MARGIN = 500


def catch_up(*, batch: int = 2000, max_batches: int = 50) -> int:
    """Refresh the conversations with events past the watermark; how many events were read.

    Run every few seconds by ``reports.tasks`` and before a report is shown, so
    that figures are never more than a catch-up behind the log. One runner at a
    time (the watermark's row lock; a second runner returns at once on PostgreSQL).
    """
    read = 0
    for _ in range(max_batches):
        with transaction.atomic():
            mark = _locked_watermark()
            if mark is None:
                return read
            rows = list(
                Event.objects.filter(
                    Q(kind__in=_READ_KIND_NAMES, conversation_id__isnull=False)
                    | Q(kind__in=_PERSON_KIND_NAMES),
                    pk__gt=max(mark.last_event_id - LATE_COMMIT_MARGIN, 0),
                )
                .order_by("pk")
                .values_list("pk", "kind", "conversation_id", "customer_id")[
                    : batch + LATE_COMMIT_MARGIN
                ]
            )
            fresh = [row for row in rows if row[0] > mark.last_event_id]
            if not fresh:
                return read
            refresh_many(_concerned(rows))
            mark.last_event_id = fresh[-1][0]
            mark.save(update_fields=["last_event_id"])
            read += len(fresh)
    return read


def _concerned(rows: list[tuple[int, str, int | None, int | None]]) -> list[int]:
    """The conversations whose figures these events may change.

    Their own; and, since first-contact resolution looks at the person's next
    conversation, the recent resolved conversations of a person who opened a
    new one, and every conversation of customers merged or unmerged.
    """
    ids = {conversation_id for _, _, conversation_id, _ in rows if conversation_id}
    opened = [conversation_id for _, kind, conversation_id, _ in rows if kind == _OPENED]
    people = {customer_id for _, kind, _, customer_id in rows if kind in _PERSON_KIND_NAMES}
    related = Conversation.objects.none()
    if opened:
        newcomers = Conversation.objects.filter(pk__in=opened)
        earliest = min(newcomers.values_list("created_at", flat=True), default=None)
        if earliest is not None:
            related = Conversation.objects.filter(
                customer_id__in=newcomers.values("customer_id"),
                resolved_at__gte=earliest - MAX_FCR_WINDOW,
            )
    ids.update(related.values_list("pk", flat=True))
    if people:
        ids.update(Conversation.objects.filter(customer_id__in=people).values_list("pk", flat=True))
    return sorted(ids)


def _locked_watermark() -> FactsWatermark | None:
    FactsWatermark.objects.get_or_create(pk=1)
    query = FactsWatermark.objects.filter(pk=1)
    if connection.features.has_select_for_update_skip_locked:
        query = query.select_for_update(skip_locked=True)
    return query.first()
