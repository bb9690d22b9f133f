"""Who is writing: the one place where a sender's identity claims become a customer.

Every way a customer reaches the brand (a message on any channel, a phone
call, the widget linking an address) says who they are with claims, strongest
first. ``resolve_claims`` turns them into a customer, by these rules:

- claims are normalised; unusable ones are dropped, repeated ones count once;
- the known identity that decides is a verified one if any claim matches one
  (a number a visitor typed must not outweigh the WhatsApp id the provider
  vouches for), else the strongest claim that matches;
- an identity another customer only typed, which the channel now vouches for,
  goes to its owner: a customer of their own, the two proposed as duplicates;
- no claim known: a new customer holding them all; claims a known customer
  does not have yet, and nobody else has, are added to them, never taken from
  someone else (that is a duplicate for an agent to decide).

Writers insert identities in one order (sorted keys) so that two transactions
claiming the same keys never wait on each other crosswise. A concurrent writer
that got there first (the same new customer created twice at once: a
uniqueness clash; an identity verified or removed meanwhile: IdentityChanged)
makes the resolution raise; the caller rolls its transaction back and runs it
once more, and the look-up then sees the other writer's work. The retry is the
transaction's, not a savepoint's here: a savepoint would cost two more
statements on every new customer for a clash that almost never happens.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.db import IntegrityError, transaction

from comptoir.conversations.inbound import IdentityClaim
from comptoir.customers.actions import clean_display_name
from comptoir.customers.identities import InvalidIdentity, normalise_identity
from comptoir.customers.lookup import IdentityKey, IdentityMatch, Lookup, find_identities
from comptoir.customers.models import Customer, DuplicateProposal, Identity
from comptoir.events import kinds
from comptoir.events.actors import CUSTOMER
from comptoir.events.log import append_event
from comptoir.tenancy.models import Brand

# (kind, normalised value, verified)
NormalisedClaim = tuple[str, str, bool]


class IdentityChanged(Exception):
    """What the look-up found changed before it could be used (an agent verified or removed
    the identity meanwhile): the caller's transaction is rolled back and tried again."""


@dataclass(frozen=True)
class Resolution:
    customer: Customer
    # The known identity that decided the customer, None for a customer created
    # just now (a new sender, or the owner of an identity someone else had typed).
    match: IdentityMatch | None


def normalise_claims(claims: list[IdentityClaim], brand: Brand) -> list[NormalisedClaim]:
    """(kind, normalised value, verified) of every usable claim, strongest first.

    Unusable claims are dropped; a key claimed twice (two spellings of one
    number) counts once, where it first appears, verified if either claim is.
    """
    normalised: dict[IdentityKey, bool] = {}
    for claim in claims:
        try:
            value = normalise_identity(claim.kind, claim.value, region=brand.default_region)
        except InvalidIdentity:
            continue
        key = (claim.kind, value)
        normalised[key] = normalised.get(key, False) or claim.verified
    return [(kind, value, verified) for (kind, value), verified in normalised.items()]


def resolve_customer(
    brand: Brand, claims: list[IdentityClaim], *, display_name: str = "", language: str = ""
) -> Customer:
    """The customer behind ``claims``, found or created (``resolve_claims`` without a thread)."""
    return resolve_claims(brand, claims, display_name=display_name, language=language).customer


def resolve_claims(
    brand: Brand,
    claims: list[IdentityClaim],
    *,
    display_name: str = "",
    language: str = "",
    lookup: Lookup | None = None,
    lock_if: Callable[[IdentityMatch], bool] | None = None,
) -> Resolution:
    """Find the customer behind ``claims`` by the rules above, or create one.

    ``lookup`` finds the known identities (default: ``find_identities``); ingest
    passes one that also brings each customer's open thread, returned in
    ``Resolution.match``. ``lock_if(match)``, when given and true for the
    deciding match, locks that customer's row (NO KEY: concurrent inserts that
    reference it do not wait) and looks up again under the lock: the caller is
    about to open something for the customer and wants one writer at a time.
    The customer's name is filled in if they had none. Must run inside a
    transaction; raises InvalidIdentity when no claim is usable, and
    IntegrityError or IdentityChanged when a concurrent writer got there first:
    the caller's transaction is then run once more.
    """
    normalised = normalise_claims(claims, brand)
    if not normalised:
        raise InvalidIdentity("no usable identity claim")
    if lookup is None:
        lookup = partial(find_identities, brand.pk)
    keys = [(kind, value) for kind, value, _ in normalised]
    matches = lookup(keys)
    if not matches:
        customer = create_customer(brand, normalised, display_name=display_name, language=language)
        return Resolution(customer, None)
    match = deciding_match(normalised, matches)
    if claims_ownership(normalised, match):
        owner = _give_to_owner(brand, normalised, match, display_name, language)
        return Resolution(owner, None)
    if lock_if is not None and lock_if(match):
        locked = Customer.objects.select_for_update(no_key=True).filter(pk=match.customer.pk)
        list(locked.values("pk"))
        matches = lookup(keys)
        if not matches:  # the identity went away meanwhile
            raise IdentityChanged
        match = deciding_match(normalised, matches)
    known = {m.key for m in matches}
    for kind, value, verified in sorted(normalised):
        if (kind, value) not in known:
            add_identity_if_free(brand, match.customer, kind, value, verified)
    fill_display_name(match.customer, display_name)
    return Resolution(match.customer, match)


def deciding_match(
    normalised: list[NormalisedClaim], matches: list[IdentityMatch]
) -> IdentityMatch:
    """The match that says who the sender is: verified first, then the strongest claim."""
    by_key = {match.key: match for match in matches}
    in_claim_order = [
        by_key[(kind, value)] for kind, value, _ in normalised if (kind, value) in by_key
    ]
    return next((match for match in in_claim_order if match.verified), in_claim_order[0])


def claims_ownership(normalised: list[NormalisedClaim], match: IdentityMatch) -> bool:
    """The channel vouches for the identity that decided, which its holder only typed."""
    return not match.verified and (match.kind, match.value, True) in normalised


def _give_to_owner(
    brand: Brand,
    normalised: list[NormalisedClaim],
    match: IdentityMatch,
    display_name: str,
    language: str,
) -> Customer:
    """The owner of identities another customer only typed: a customer of their own.

    A visitor may type anyone's address or number in the widget; when the
    owner then writes from it (a signed WhatsApp id, a mail) they must not land
    in the visitor's file and conversation. The unverified identities the
    sender proves go to a new customer, and the two files are proposed as
    duplicates for an agent to decide (they may well be the same person).
    """
    previous = match.customer
    proven = sorted((kind, value) for kind, value, verified in normalised if verified)
    owner = Customer.objects.create(
        brand=brand, display_name=clean_display_name(display_name), language=language[:8]
    )
    moved = 0
    for kind, value in proven:
        moved += Identity.objects.filter(
            brand=brand, customer=previous, kind=kind, value=value, verified=False
        ).update(customer=owner, verified=True)
    if not moved:  # verified meanwhile by an agent: the previous customer keeps it
        raise IdentityChanged
    for kind, value, verified in sorted(normalised):
        add_identity_if_free(brand, owner, kind, value, verified)
    a, b = sorted((previous.pk, owner.pk))
    DuplicateProposal.objects.get_or_create(
        customer_a_id=a,
        customer_b_id=b,
        defaults={
            "brand": brand,
            "score": 0.9,
            "reasons": [{"code": "claimed_identity", "detail": ", ".join(map(":".join, proven))}],
        },
    )
    append_event(
        brand,
        kinds.CUSTOMER_IDENTITY_CLAIMED,
        {"from_customer_id": previous.pk, "to_customer_id": owner.pk, "identities": proven},
        actor=CUSTOMER,
        customer=previous,
    )
    return owner


def create_customer(
    brand: Brand,
    normalised_claims: list[NormalisedClaim],
    *,
    display_name: str = "",
    language: str = "",
) -> Customer:
    """A new customer holding all ``normalised_claims`` (from ``normalise_claims``).

    Raises IntegrityError when a concurrent transaction took one of the
    identities first: run once more, ``resolve_claims`` then finds that customer.
    """
    if not normalised_claims:
        raise InvalidIdentity("no usable identity claim")
    customer = Customer.objects.create(
        brand=brand, display_name=clean_display_name(display_name), language=language
    )
    Identity.objects.bulk_create(
        Identity(brand=brand, customer=customer, kind=kind, value=value, verified=verified)
        for kind, value, verified in sorted(normalised_claims)
    )
    return customer


def create_customer_without_identity(
    brand: Brand, *, display_name: str = "", language: str = ""
) -> Customer:
    """A new customer holding no identity: the sender of a message that could not prove one.

    Used for a mail whose From is a known customer's address but is not authenticated
    (``touchpoints.email.authentication``): an agent merges it once the sender is confirmed.
    """
    return Customer.objects.create(
        brand=brand, display_name=clean_display_name(display_name), language=language
    )


def add_identity_if_free(
    brand: Brand, customer: Customer, kind: str, value: str, verified: bool
) -> bool:
    """Attach the identity unless another transaction took it first (then keep theirs).

    The customer's row is locked first (NO KEY, as ingest does): a merge of
    this customer in progress finishes before, and when ``customer`` was just
    merged, the identity goes to the survivor, so an absorbed customer never
    gains an identity ingest could find it by. One query, on the rare path of a
    new claim from a known customer only.
    """
    try:
        with transaction.atomic():
            merged_into_id = (
                Customer.objects.select_for_update(no_key=True)
                .filter(pk=customer.pk)
                .values_list("merged_into_id", flat=True)
                .first()
            )
            Identity.objects.create(
                brand=brand,
                customer_id=merged_into_id or customer.pk,
                kind=kind,
                value=value,
                verified=verified,
            )
    except IntegrityError:
        return False
    return True


def fill_display_name(customer: Customer, name: str) -> None:
    """Give a nameless customer the name a channel just told us; never overwrite one."""
    name = clean_display_name(name)
    if name and not customer.display_name:
        customer.display_name = name
        customer.save(update_fields=["display_name", "updated_at"])
