"""State changes of customers and their identities."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from comptoir.conversations.events import append_event
from comptoir.conversations.inbound import IdentityClaim
from comptoir.customers.identities import InvalidIdentity, normalise_identity
from comptoir.customers.models import Customer, Identity
from comptoir.privacy.cards import mask_card_numbers
from comptoir.tenancy.models import Brand


def normalise_claims(claims: list[IdentityClaim], brand: Brand) -> list[tuple[str, str, bool]]:
    """(kind, normalised value, verified) of every usable claim, in order; others are dropped."""
    normalised = []
    for claim in claims:
        try:
            normalised.append(
                (
                    claim.kind,
                    normalise_identity(claim.kind, claim.value, region=brand.default_region),
                    claim.verified,
                )
            )
        except InvalidIdentity:
            continue
    return normalised


def clean_display_name(name: str) -> str:
    """A name as stored: trimmed, bounded, and with any card number masked."""
    return mask_card_numbers(name.strip())[:200]


def fill_display_name(customer: Customer, name: str) -> None:
    """Give a nameless customer the name a channel just told us; never overwrite one."""
    name = clean_display_name(name)
    if name and not customer.display_name:
        customer.display_name = name
        customer.save(update_fields=["display_name", "updated_at"])


def resolve_customer(
    brand: Brand, claims: list[IdentityClaim], *, display_name: str = "", language: str = ""
) -> Customer:
    """Find the customer behind ``claims`` (strongest first) or create one.

    Claims the customer does not have yet, and nobody else has, are added to it.
    Must run inside a transaction.
    """
    normalised = normalise_claims(claims, brand)
    if not normalised:
        raise InvalidIdentity("no usable identity claim")
    known = {
        (i.kind, i.value): i
        for i in Identity.objects.select_related("customer").filter(
            brand=brand,
            kind__in={k for k, _, _ in normalised},
            value__in={v for _, v, _ in normalised},
        )
    }
    customer = next(
        (known[(kind, value)].customer for kind, value, _ in normalised if (kind, value) in known),
        None,
    )
    if customer is None:
        return create_customer(brand, normalised, display_name=display_name, language=language)
    fill_display_name(customer, display_name)
    for kind, value, verified in normalised:
        if (kind, value) not in known:
            add_identity_if_free(brand, customer, kind, value, verified)
    return customer


def create_customer(
    brand: Brand,
    normalised_claims: list[tuple[str, str, bool]],
    *,
    display_name: str = "",
    language: str = "",
) -> Customer:
    """A new customer holding all ``normalised_claims`` (from ``normalise_claims``).

    Raises IntegrityError when a concurrent transaction took one of the
    identities first: the caller retries and then finds that customer.
    """
    if not normalised_claims:
        raise InvalidIdentity("no usable identity claim")
    customer = Customer.objects.create(
        brand=brand, display_name=clean_display_name(display_name), language=language
    )
    Identity.objects.bulk_create(
        Identity(brand=brand, customer=customer, kind=kind, value=value, verified=verified)
        for kind, value, verified in normalised_claims
    )
    return customer


def add_identity_if_free(
    brand: Brand, customer: Customer, kind: str, value: str, verified: bool
) -> bool:
    """Attach the identity unless another transaction took it first (then keep theirs)."""
    try:
        with transaction.atomic():
            Identity.objects.create(
                brand=brand, customer=customer, kind=kind, value=value, verified=verified
            )
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class IdentityLink:
    identity: Identity | None
    # Set when the value already belongs to another customer: never merged silently.
    conflicting_customer: Customer | None = None


def link_identity(
    customer: Customer, kind: str, raw_value: str, *, verified: bool = False
) -> IdentityLink:
    """Give ``customer`` the identity ``kind:raw_value`` if no other customer holds it.

    Raises InvalidIdentity for a value that cannot be normalised.
    """
    value = normalise_identity(kind, raw_value, region=customer.brand.default_region)
    with transaction.atomic():
        existing = (
            Identity.objects.select_related("customer")
            .filter(brand_id=customer.brand_id, kind=kind, value=value)
            .first()
        )
        if existing is not None:
            if existing.customer_id == customer.pk:
                return IdentityLink(existing)
            return IdentityLink(None, conflicting_customer=existing.customer)
        identity = Identity.objects.create(
            brand_id=customer.brand_id, customer=customer, kind=kind, value=value, verified=verified
        )
        append_event(
            customer.brand_id,
            "customer.identity_added",
            {"customer_id": customer.pk, "kind": kind, "value": value, "verified": verified},
            customer=customer,
        )
    return IdentityLink(identity)


def rename_customer(customer: Customer, display_name: str) -> None:
    display_name = clean_display_name(display_name)
    if not display_name or display_name == customer.display_name:
        return
    with transaction.atomic():
        customer.display_name = display_name
        customer.save(update_fields=["display_name", "updated_at"])
        append_event(
            customer.brand_id,
            "customer.updated",
            {"customer_id": customer.pk, "display_name": display_name},
            customer=customer,
        )
