"""Containment and handoff rates, from the outcomes the assistant records on its jobs."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import OuterRef, Subquery

from comptoir.assistant.models import AssistantJob, Intent, Outcome


@dataclass(frozen=True)
class IntentRates:
    code: str  # the job's ``intent`` (an Intent's ``name``); "" when none was recognised
    name: str  # the brand's Intent label for that code, else the code ("" when not recognised)
    conversations: int
    contained: int  # answered by the assistant alone, never handed off
    handed_off: int
    containment_rate: float


@dataclass(frozen=True)
class AssistantRates:
    conversations: int  # conversations the assistant handled (answered or handed off)
    contained: int  # answered by the assistant alone, never handed off
    handed_off: int
    containment_rate: float
    handoff_rate: float
    # Why it handed off: (reason code, number of handoffs), most frequent first.
    handoff_reasons: list[tuple[str, int]] = field(default_factory=list)
    # The same jobs per intent (see ``_per_intent``).
    intents: list[IntentRates] = field(default_factory=list)


# (conversation id, outcome, handoff reason, intent code, intent label or code)
_Job = tuple[int, str, str, str, str]


def assistant_rates(brand_id: int, start: datetime, end: datetime) -> AssistantRates:
    """Rates over conversations with an assistant job created in [start, end), in one query.

    Containment: share of those conversations the assistant handled without a
    person; handoff: share it handed to a person. Messages it only classified
    (calls) or skipped (a person was already there) are not counted.
    """
    jobs = _handled_jobs(brand_id, start, end)
    outcomes: dict[int, set[str]] = {}
    reasons: Counter[str] = Counter()
    for conversation_id, outcome, reason, _code, _name in jobs:
        outcomes.setdefault(conversation_id, set()).add(outcome)
        if outcome == Outcome.HANDOFF:
            reasons[reason] += 1
    total = len(outcomes)
    handed_off = sum(1 for seen in outcomes.values() if Outcome.HANDOFF in seen)
    contained = total - handed_off
    return AssistantRates(
        conversations=total,
        contained=contained,
        handed_off=handed_off,
        containment_rate=contained / total if total else 0.0,
        handoff_rate=handed_off / total if total else 0.0,
        handoff_reasons=reasons.most_common(),
        intents=_per_intent(jobs),
    )


def intent_rates(brand_id: int, start: datetime, end: datetime) -> list[IntentRates]:
    """``assistant_rates(...).intents``: the breakdown by intent alone."""
    return assistant_rates(brand_id, start, end).intents


def _handled_jobs(brand_id: int, start: datetime, end: datetime) -> list[_Job]:
    """The jobs answered or handed off in [start, end), oldest first, with their intent's
    label (read in the same query: the intent may since have been deleted or renamed,
    its code stands in then)."""
    label = Intent.objects.filter(brand_id=OuterRef("brand_id"), name=OuterRef("intent"))
    return [
        (conversation_id, outcome, reason, code, name or code)
        for conversation_id, outcome, reason, code, name in AssistantJob.objects.filter(
            brand_id=brand_id,
            created_at__gte=start,
            created_at__lt=end,
            outcome__in=(Outcome.ANSWERED, Outcome.HANDOFF),
        )
        .annotate(intent_label=Subquery(label.values("label")[:1]))
        .order_by("created_at", "pk")
        .values_list("conversation_id", "outcome", "reason", "intent", "intent_label")
    ]


def _per_intent(handled: list[_Job]) -> list[IntentRates]:
    """The handled jobs broken down by intent.

    A conversation counts under every intent recognised in it, contained or handed
    off for each: a customer who got their order status from the assistant, then
    asked for an appointment (which a person handles), is a success of order
    tracking and a handoff of appointments. A job without an intent belongs to
    what the customer was talking about: the intent recognised before it in the
    conversation ("that is not what I asked", handed off, is a handoff of the
    intent just answered), or, before any, the conversation's first intent (a
    greeting before the question); "not recognised" (code "") when the
    conversation has none. So the rows may add up to more conversations than
    the totals count.

    Counting conversations under their first intent only would charge a later,
    unrelated handoff to an intent the assistant served well; counting jobs
    would count a conversation several times under one intent.

    Rows are sorted by conversations, most first, then by name.
    """
    jobs: dict[int, list[tuple[str, str, str]]] = {}  # conversation -> (outcome, code, name)
    for conversation_id, outcome, _reason, code, name in handled:
        jobs.setdefault(conversation_id, []).append((outcome, code, name))
    totals: dict[tuple[str, str], list[int]] = {}  # (code, name) -> [conversations, handoffs]
    for conversation_jobs in jobs.values():
        current = next(((c, n) for _, c, n in conversation_jobs if c), ("", ""))
        handed_off: dict[tuple[str, str], bool] = {}
        for outcome, code, name in conversation_jobs:
            if code:
                current = (code, name)
            handed_off[current] = handed_off.get(current, False) or outcome == Outcome.HANDOFF
        for intent, handoff in handed_off.items():
            counts = totals.setdefault(intent, [0, 0])
            counts[0] += 1
            counts[1] += handoff
    rows = [
        IntentRates(
            code=code,
            name=name,
            conversations=total,
            contained=total - handed_off,
            handed_off=handed_off,
            containment_rate=(total - handed_off) / total,
        )
        for (code, name), (total, handed_off) in totals.items()
    ]
    # Not recognised after the intents of the same volume.
    rows.sort(key=lambda row: (-row.conversations, not row.code, row.name.casefold(), row.code))
    return rows
