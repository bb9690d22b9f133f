"""Likely duplicate customers: detection on plain records, and proposals for agents.

Two profiles of one person appear when identities are not shared: a caller's
phone number and their WhatsApp id, a typo in an address typed in the widget,
``jean.dupont@gmail.com`` and ``jeandupont@googlemail.com``. Ingest cannot join
them (an exact match on an identity is the only safe automatic rule), so this
module finds them and *proposes* them; only an agent merges
(``comptoir.customers.merging``).

``detect(profiles)`` is pure Python on plain ``Profile`` records: production
feeds it the brand's customers (``propose_duplicates``) and ``bench/identity.py``
feeds it the FEBRL record-linkage sets, so the benchmark scores the code that
proposes duplicates in production.

Scaling: profiles are only compared within blocks sharing a key (a name token,
the last 8 digits of a phone, an e-mail local part, a birth date), and a block
larger than ``MAX_BLOCK`` (a very common surname) is skipped, so the work grows
with the number of records, not its square.
"""

import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from comptoir.customers.models import (
    Customer,
    DuplicateProposal,
    Identity,
    IdentityKind,
    ProposalStatus,
)
from comptoir.tenancy.models import Brand

logger = logging.getLogger(__name__)

MAX_BLOCK = 500
MIN_SCORE = 0.6
NAME_SIMILARITY = 0.88
TOKEN_SIMILARITY = 0.85
PARTIAL_SIMILARITY = 0.92
EMAIL_SIMILARITY = 0.88
PHONE_SUFFIX = 8
FULL_NAME_MATCHES = ("same", "transposed", "similar")

GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}
HONORIFICS = {"mr", "mrs", "ms", "miss", "mme", "mlle", "m", "dr", "mx"}

# What agents read next to a proposal (the codes are stored, labels translated).
REASON_LABELS = {
    "same_identity": _("An agent gave one profile an identity the other one holds"),
    "claimed_identity": _("Its owner proved an identity the other profile had only typed"),
    "same_phone": _("Same phone number on both profiles"),
    "gmail_alias": _("Same Gmail address written differently"),
    "same_name_similar_phone": _("Same name and phone numbers ending alike"),
    "same_name_similar_email": _("Same name and similar e-mail address at the same domain"),
    "same_name_same_birth_date": _("Same name and same date of birth"),
    "same_name_same_postcode": _("Same name and same postcode"),
    "partial_name_same_birth_date": _("Partly the same name and same date of birth"),
    "same_birth_date_and_postcode": _("Same date of birth and postcode, different names"),
}


@dataclass(frozen=True)
class Profile:
    """What the detector knows of one customer (or one benchmark record).

    ``phones`` are E.164 numbers or bare digits (WhatsApp ids); only their
    digits are compared. ``birth_date``/``postcode`` are empty for Comptoir
    customers today (there is no such field) and used when a source has them.
    """

    id: int
    name: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    birth_date: str = ""
    postcode: str = ""


@dataclass(frozen=True)
class Reason:
    code: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


@dataclass
class Candidate:
    """A pair worth an agent's look: ``a < b``, a score in [0, 1] and why."""

    a: int
    b: int
    score: float
    reasons: list[Reason] = field(default_factory=list)


# --- normalisation of the compared fields -------------------------------------------------


def name_tokens(name: str) -> tuple[str, ...]:
    """``"Mme Éléonore  d'Artois"`` → ``("eleonore", "d", "artois")``: no accents, case, titles."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    tokens = re.sub(r"[^a-z0-9]+", " ", plain).split()
    return tuple(t for t in tokens if t not in HONORIFICS)


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def email_parts(email: str) -> tuple[str, str]:
    """(canonical local part, domain); Gmail ignores dots and ``+tags`` in the local part."""
    local, _at, domain = email.casefold().rpartition("@")
    if domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return local, domain


# --- string similarity (pure Python: no native dependency in the product) ------------------


@lru_cache(maxsize=200_000)
def jaro_winkler(s1: str, s2: str) -> float:
    """Jaro-Winkler similarity in [0, 1]; made for short strings such as names."""
    if s1 == s2:
        return 1.0 if s1 else 0.0
    len1, len2 = len(s1), len(s2)
    if not len1 or not len2:
        return 0.0
    window = max(max(len1, len2) // 2 - 1, 0)
    matched1 = [False] * len1
    matched2 = [False] * len2
    matches = 0
    for i, c in enumerate(s1):
        for j in range(max(0, i - window), min(len2, i + window + 1)):
            if not matched2[j] and s2[j] == c:
                matched1[i] = matched2[j] = True
                matches += 1
                break
    if not matches:
        return 0.0
    transpositions = 0
    j = 0
    for i in range(len1):
        if matched1[i]:
            while not matched2[j]:
                j += 1
            if s1[i] != s2[j]:
                transpositions += 1
            j += 1
    m = float(matches)
    jaro = (m / len1 + m / len2 + (m - transpositions / 2) / m) / 3
    prefix = 0
    for a, b in zip(s1[:4], s2[:4], strict=False):
        if a != b:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


def name_match(a: tuple[str, ...], b: tuple[str, ...]) -> str | None:
    """How two names agree, strongest first.

    "same"; "transposed" (first and last name swapped); "similar" (both names
    alike, or the whole name alike once spaces are ignored: "lovel ock" and
    "lovelock"); "partial" (one of the names alike, the other different or
    missing: a nickname, a married name); or None.
    """
    if not a or not b:
        return None
    if a == b:
        return "same"
    if sorted(a) == sorted(b):
        return "transposed"
    if len(a) >= 2 and len(b) >= 2:
        first_last = (a[0], a[-1]), (b[0], b[-1])
        for (x1, x2), (y1, y2) in (first_last, (first_last[0], first_last[1][::-1])):
            if (
                jaro_winkler(x1, y1) >= TOKEN_SIMILARITY
                and jaro_winkler(x2, y2) >= TOKEN_SIMILARITY
            ):
                return "similar"
    if jaro_winkler("".join(a), "".join(b)) >= NAME_SIMILARITY:
        return "similar"
    if any(
        len(x) >= 3 and len(y) >= 3 and jaro_winkler(x, y) >= PARTIAL_SIMILARITY
        for x in a
        for y in b
    ):
        return "partial"
    return None


# --- detection -----------------------------------------------------------------------------


@dataclass
class _Prepared:
    profile: Profile
    tokens: tuple[str, ...]
    phones: set[str]
    suffixes: set[str]
    emails: list[tuple[str, str, str]]  # (raw, canonical local, domain)


def _prepare(profile: Profile) -> _Prepared:
    phone_digits = {d for d in (digits(p) for p in profile.phones) if len(d) >= 6}
    return _Prepared(
        profile=profile,
        tokens=name_tokens(profile.name),
        phones=phone_digits,
        suffixes={d[-PHONE_SUFFIX:] for d in phone_digits},
        emails=[(e.casefold(), *email_parts(e)) for e in profile.emails if "@" in e],
    )


def _blocking_keys(p: _Prepared) -> set[str]:
    keys = {f"n:{t}" for t in p.tokens if len(t) >= 2}
    keys |= {f"p:{s}" for s in p.suffixes}
    keys |= {f"e:{local}" for _, local, _ in p.emails if len(local) >= 3}
    if p.profile.birth_date:
        keys.add(f"d:{p.profile.birth_date}")
    return keys


def _name_detail(level: str, a: _Prepared, b: _Prepared) -> str:
    names = f"{a.profile.name} / {b.profile.name}"
    return f"{names} (first and last name swapped)" if level == "transposed" else names


def compare(a: _Prepared, b: _Prepared) -> Candidate | None:
    """Apply every rule to one pair; None when no rule fires strongly enough."""
    reasons: list[tuple[float, Reason]] = []
    shared_phones = a.phones & b.phones
    for number in sorted(shared_phones):
        reasons.append((0.9, Reason("same_phone", number)))
    for raw_a, local_a, domain_a in a.emails:
        for raw_b, local_b, domain_b in b.emails:
            if raw_a != raw_b and domain_a == "gmail.com" == domain_b and local_a == local_b:
                reasons.append((0.95, Reason("gmail_alias", f"{raw_a} / {raw_b}")))
    pa, pb = a.profile, b.profile
    same_birth_date = bool(pa.birth_date) and pa.birth_date == pb.birth_date
    same_postcode = bool(pa.postcode) and pa.postcode == pb.postcode
    # Names are only compared when something else could corroborate them (the
    # comparison is most of the cost, and a name alone never makes a proposal).
    corroborated = (
        same_birth_date or same_postcode or (a.emails and b.emails) or (a.suffixes & b.suffixes)
    )
    level = name_match(a.tokens, b.tokens) if corroborated else None
    if level in FULL_NAME_MATCHES:
        # A full name match needs one more piece of evidence (namesakes exist).
        weight = 0.0 if level == "same" else 0.05
        suffixes = (a.suffixes & b.suffixes) if not shared_phones else set()
        for suffix in sorted(suffixes):
            detail = f"{_name_detail(level, a, b)}; …{suffix}"
            reasons.append((0.85 - weight, Reason("same_name_similar_phone", detail)))
        for raw_a, local_a, domain_a in a.emails:
            for raw_b, local_b, domain_b in b.emails:
                if domain_a != domain_b or local_a == local_b:
                    continue
                if jaro_winkler(local_a, local_b) >= EMAIL_SIMILARITY:
                    detail = f"{_name_detail(level, a, b)}; {raw_a} / {raw_b}"
                    reasons.append((0.85 - weight, Reason("same_name_similar_email", detail)))
        if same_birth_date:
            detail = f"{_name_detail(level, a, b)}; {pa.birth_date}"
            reasons.append((0.85 - weight, Reason("same_name_same_birth_date", detail)))
        if same_postcode:
            detail = f"{_name_detail(level, a, b)}; {pa.postcode}"
            reasons.append((0.7 - 2 * weight, Reason("same_name_same_postcode", detail)))
    elif level == "partial" and same_birth_date:
        detail = f"{pa.name} / {pb.name}; {pa.birth_date}"
        reasons.append((0.75, Reason("partial_name_same_birth_date", detail)))
    if same_birth_date and same_postcode and level not in FULL_NAME_MATCHES:
        detail = f"{pa.birth_date}, {pa.postcode}"
        reasons.append((0.65, Reason("same_birth_date_and_postcode", detail)))
    if not reasons:
        return None
    # Independent pieces of evidence add up: 1 - Π(1 - s), kept below certainty.
    doubt = 1.0
    for weight_of_reason, _reason in reasons:
        doubt *= 1 - weight_of_reason
    score = round(min(1 - doubt, 0.99), 3)
    if score < MIN_SCORE:
        return None
    first, second = sorted((a.profile.id, b.profile.id))
    return Candidate(first, second, score, [reason for _, reason in reasons])


def detect(profiles: Iterable[Profile], *, focus: set[int] | None = None) -> list[Candidate]:
    """Likely duplicate pairs among ``profiles``, best first.

    With ``focus``, only pairs involving one of those ids are compared (the
    check after one customer changed).
    """
    prepared = {p.id: _prepare(p) for p in profiles}
    blocks: dict[str, list[int]] = defaultdict(list)
    for pid, p in prepared.items():
        for key in _blocking_keys(p):
            blocks[key].append(pid)
    seen: set[tuple[int, int]] = set()
    candidates = []
    skipped = 0
    for members in blocks.values():
        if len(members) < 2:
            continue
        if len(members) > MAX_BLOCK:
            skipped += 1
            continue
        for i, x in enumerate(members):
            for y in members[i + 1 :]:
                pair = (x, y) if x < y else (y, x)
                if pair in seen or (focus is not None and x not in focus and y not in focus):
                    continue
                seen.add(pair)
                candidate = compare(prepared[pair[0]], prepared[pair[1]])
                if candidate is not None:
                    candidates.append(candidate)
    if skipped:
        logger.info("duplicate detection skipped %d blocks larger than %d", skipped, MAX_BLOCK)
    candidates.sort(key=lambda c: (-c.score, c.a, c.b))
    return candidates


# --- production: the brand's customers and the proposals agents decide on ----------------

PHONE_KINDS = (IdentityKind.PHONE, IdentityKind.WHATSAPP)


def customer_profiles(brand: Brand) -> list[Profile]:
    """Every live (not merged) customer of the brand as a Profile (two queries)."""
    names = dict(
        Customer.objects.filter(brand=brand, merged_into__isnull=True).values_list(
            "id", "display_name"
        )
    )
    emails: dict[int, list[str]] = defaultdict(list)
    phones: dict[int, list[str]] = defaultdict(list)
    identities = Identity.objects.filter(
        brand=brand,
        customer__merged_into__isnull=True,
        kind__in=(IdentityKind.EMAIL, *PHONE_KINDS),
    ).values_list("customer_id", "kind", "value")
    for customer_id, kind, value in identities:
        (emails if kind == IdentityKind.EMAIL else phones)[customer_id].append(value)
    return [
        Profile(id=cid, name=name, emails=tuple(emails[cid]), phones=tuple(phones[cid]))
        for cid, name in names.items()
    ]


def propose_duplicates(brand: Brand, *, focus: set[int] | None = None) -> list[DuplicateProposal]:
    """Record a proposal for every new likely pair; returns the proposals created.

    A pair already proposed keeps its proposal whatever its status: an agent
    who said "not a duplicate" is not asked again.
    """
    candidates = detect(customer_profiles(brand), focus=focus)
    if not candidates:
        return []
    existing = set(
        DuplicateProposal.objects.filter(brand=brand).values_list("customer_a_id", "customer_b_id")
    )
    created = []
    for candidate in candidates:
        if (candidate.a, candidate.b) in existing:
            continue
        try:
            with transaction.atomic():
                created.append(
                    DuplicateProposal.objects.create(
                        brand=brand,
                        customer_a_id=candidate.a,
                        customer_b_id=candidate.b,
                        score=candidate.score,
                        reasons=[r.as_json() for r in candidate.reasons],
                    )
                )
        except IntegrityError:
            continue  # proposed meanwhile by a concurrent run, or a customer was deleted
    if created:
        logger.info("proposed %d likely duplicate pairs in brand %s", len(created), brand.slug)
    return created


def propose_for_recent_identities(since: datetime) -> int:
    """Check every customer who gained an identity since ``since``; returns proposals made.

    What the periodic task ``customers.tasks.propose_recent_duplicates`` runs.
    """
    focus: dict[int, set[int]] = defaultdict(set)
    recent = Identity.objects.filter(created_at__gte=since).values_list("brand_id", "customer_id")
    for brand_id, customer_id in recent:
        focus[brand_id].add(customer_id)
    return sum(
        len(propose_duplicates(brand, focus=focus[brand.pk]))
        for brand in Brand.objects.filter(pk__in=focus)
    )


def open_proposals_for(customer: Customer) -> list[DuplicateProposal]:
    """The open proposals naming ``customer`` whose both customers still exist unmerged."""
    return list(
        DuplicateProposal.objects.filter(
            brand_id=customer.brand_id,
            status=ProposalStatus.OPEN,
            customer_a__merged_into__isnull=True,
            customer_b__merged_into__isnull=True,
        )
        .filter(Q(customer_a_id=customer.pk) | Q(customer_b_id=customer.pk))
        .select_related("customer_a", "customer_b")
        .order_by("-score", "pk")
    )


def reason_label(code: str) -> str:
    return str(REASON_LABELS.get(code, code))
