"""Containment and handoff rates, from the outcomes the assistant records on its jobs."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import OuterRef, Subquery

from comptoir.assistant.models import AssistantJob, Intent, Outcome


@dataclass(frozen=True)
class AssistantRates:
    conversations: int  # conversations the assistant handled (answered or handed off)
    contained: int  # answered by the assistant alone, never handed off
    handed_off: int
    containment_rate: float
    handoff_rate: float
    # Why it handed off: (reason code, number of handoffs), most frequent first.
    handoff_reasons: list[tuple[str, int]] = field(default_factory=list)


def assistant_rates(brand_id: int, start: datetime, end: datetime) -> AssistantRates:
    """Rates over conversations with an assistant job created in [start, end).

    Containment: share of those conversations the assistant handled without a
    person; handoff: share it handed to a person. Messages it only classified
    (calls) or skipped (a person was already there) are not counted.
    """
    outcomes: dict[int, set[str]] = {}
    reasons: Counter[str] = Counter()
    for conversation_id, outcome, reason in AssistantJob.objects.filter(
        brand_id=brand_id,
        created_at__gte=start,
        created_at__lt=end,
        outcome__in=(Outcome.ANSWERED, Outcome.HANDOFF),
    ).values_list("conversation_id", "outcome", "reason"):
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
    )


@dataclass(frozen=True)
class IntentRates:
    code: str  # the job's ``intent`` (an Intent's ``name``); "" when none was recognised
    name: str  # the brand's Intent label for that code, else the code ("" when not recognised)
    conversations: int
    contained: int  # answered by the assistant alone, never handed off
    handed_off: int
    containment_rate: float


def intent_rates(brand_id: int, start: datetime, end: datetime) -> list[IntentRates]:
    """``assistant_rates`` broken down by intent, over the same conversations and window.

    Each conversation counts once, under one intent: that of its first job (by
    creation) in [start, end) that was answered or handed off and recorded an
    intent; under "not recognised" (code "") when none of those jobs recorded
    one. It is contained or handed off as a whole, exactly as in
    ``assistant_rates``: a conversation answered on its first message, then
    handed off (the answer did not help, the customer asked for a person), is
    a handoff of the intent it started with. So the rows add up to the totals
    of ``assistant_rates``, and a handoff is charged to what the customer came
    for, even when the message that triggered it ("advisor", "that is not what
    I asked") has no intent of its own. Jobs without an intent are skipped when
    choosing, so that a greeting before the question does not hide the question.

    Counting jobs per intent instead would count a conversation several times
    and rate each answer on its own, missing the handoff that followed it.

    Rows are sorted by conversations, most first, then by name. The intent's
    label is read in the same query (the intent may since have been deleted or
    renamed: its code is shown then).
    """
    label = Intent.objects.filter(brand_id=OuterRef("brand_id"), name=OuterRef("intent"))
    # conversation -> [intent code, name, handed off?], from its oldest job on.
    conversations: dict[int, list] = {}
    for conversation_id, outcome, code, name in (
        AssistantJob.objects.filter(
            brand_id=brand_id,
            created_at__gte=start,
            created_at__lt=end,
            outcome__in=(Outcome.ANSWERED, Outcome.HANDOFF),
        )
        .annotate(intent_label=Subquery(label.values("label")[:1]))
        .order_by("created_at", "pk")
        .values_list("conversation_id", "outcome", "intent", "intent_label")
    ):
        seen = conversations.setdefault(conversation_id, ["", "", False])
        if code and not seen[0]:
            seen[0], seen[1] = code, name or code
        if outcome == Outcome.HANDOFF:
            seen[2] = True
    totals: dict[tuple[str, str], list[int]] = {}
    for code, name, handed_off in conversations.values():
        counts = totals.setdefault((code, name), [0, 0])
        counts[0] += 1
        counts[1] += handed_off
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
