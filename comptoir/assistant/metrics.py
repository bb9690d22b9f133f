"""Containment and handoff rates, from the outcomes the assistant records on its jobs."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from comptoir.assistant.models import AssistantJob, Outcome


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
