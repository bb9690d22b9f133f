"""What a customer's consents allow: the one question every feature asks before using the data.

``allows(customer, purpose)`` is called by whatever reaches out to a customer for
something else than answering them: surveys (``surveys.actions``,
``surveys.tasks``, ``surveys.sending``), proactive check-ins, marketing. The
latest recorded answer counts (``Consent`` is a log, see ``customers.models``);
with no answer, a purpose falls back to its legal basis: answering the customer
(``service``) and asking how it went (``surveys``, legitimate interest with an
easy opt-out) are allowed until withdrawn; marketing needs a yes.
"""

from collections.abc import Iterable

from django.db.models import Q

from comptoir.customers.models import Consent, ConsentPurpose, Customer

# What a purpose allows when the customer never answered about it.
WITHOUT_ANSWER: dict[str, bool] = {
    ConsentPurpose.SERVICE: True,
    ConsentPurpose.SURVEYS: True,
    ConsentPurpose.MARKETING: False,
    ConsentPurpose.MARKETING_EMAIL: False,
    ConsentPurpose.MARKETING_SMS: False,
}

# Purposes whose answers also count for another: a channel's marketing answer is
# refined by, and falls back on, the general ``marketing`` answer (the latest wins).
ALSO_ANSWERED_BY: dict[str, tuple[str, ...]] = {
    ConsentPurpose.MARKETING_EMAIL: (ConsentPurpose.MARKETING,),
    ConsentPurpose.MARKETING_SMS: (ConsentPurpose.MARKETING,),
}

# The purposes the console's customer panel and the customer's own pages offer.
OFFERED = (ConsentPurpose.SERVICE, ConsentPurpose.SURVEYS, ConsentPurpose.MARKETING)


def _answering(purpose: str) -> tuple[str, ...]:
    if purpose not in WITHOUT_ANSWER:
        raise ValueError(f"Unknown consent purpose {purpose!r}.")
    return (purpose, *ALSO_ANSWERED_BY.get(purpose, ()))


def latest_answer(customer: Customer | int, purpose: str) -> Consent | None:
    """The customer's latest recorded answer that counts for ``purpose`` (None: never asked)."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    return (
        Consent.objects.filter(customer_id=customer_id, purpose__in=_answering(purpose))
        .order_by("-recorded_at", "-pk")
        .first()
    )


def allows(customer: Customer | int | None, purpose: str) -> bool:
    """Whether Comptoir may use the customer's data for ``purpose`` now.

    A missing customer (an anonymous visitor) has given nothing: only what needs
    no answer is allowed.
    """
    if customer is None:
        _answering(purpose)  # an unknown purpose is a bug, anonymous or not
        return WITHOUT_ANSWER[purpose]
    answer = latest_answer(customer, purpose)
    return WITHOUT_ANSWER[purpose] if answer is None else answer.granted


def customers_refusing(customer_ids: Iterable[int], purpose: str) -> set[int]:
    """Of ``customer_ids``, those ``allows`` refuses for ``purpose`` (one query, for batches)."""
    ids = set(customer_ids)
    if not ids:
        return set()
    latest: dict[int, bool] = {}
    rows = (
        Consent.objects.filter(Q(customer_id__in=ids), purpose__in=_answering(purpose))
        .order_by("customer_id", "recorded_at", "pk")
        .values_list("customer_id", "granted")
    )
    for customer_id, granted in rows:
        latest[customer_id] = granted
    default = WITHOUT_ANSWER[purpose]
    return {cid for cid in ids if not latest.get(cid, default)}


def current_consents(customer: Customer) -> list[tuple[str, str, bool, Consent | None]]:
    """The offered purposes with their label, what they allow now and the answer behind it."""
    answers: dict[str, Consent] = {}
    for consent in Consent.objects.filter(customer=customer, purpose__in=OFFERED).order_by(
        "recorded_at", "pk"
    ):
        answers[consent.purpose] = consent
    return [
        (
            purpose,
            ConsentPurpose(purpose).label,
            answers[purpose].granted if purpose in answers else WITHOUT_ANSWER[purpose],
            answers.get(purpose),
        )
        for purpose in OFFERED
    ]
