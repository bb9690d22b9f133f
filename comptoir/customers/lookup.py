"""Finding the known identities a sender's claims name, for ``customers.resolution``.

The resolver decides who the sender is from what a look-up found; it does not
care how it was found. ``find_identities`` is the plain look-up; ingest passes
its own, one raw-SQL query that also brings the customer's open thread
(``conversations.ingest_sql.find_customer_threads``). This module imports no
action, so that look-up can build its matches without an import circle.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from comptoir.customers.models import Customer, Identity

# (kind, normalised value): the key of an identity within a brand.
IdentityKey = tuple[str, str]


@dataclass(frozen=True)
class IdentityMatch:
    """A known identity that one of the claims names, and the customer who holds it."""

    kind: str
    value: str
    verified: bool
    customer: Customer
    # What the look-up found with the customer; ingest's: their open thread on the channel.
    thread: Any = None

    @property
    def key(self) -> IdentityKey:
        return (self.kind, self.value)


# Given the claimed keys, every known identity among them (any order).
Lookup = Callable[[list[IdentityKey]], list[IdentityMatch]]


def find_identities(brand_id: int, keys: list[IdentityKey]) -> list[IdentityMatch]:
    """The brand's identities with one of ``keys``, with their customers (one query)."""
    if not keys:
        return []
    wanted = set(keys)
    identities = Identity.objects.select_related("customer").filter(
        brand_id=brand_id,
        kind__in={kind for kind, _ in keys},
        value__in={value for _, value in keys},
    )
    return [
        IdentityMatch(identity.kind, identity.value, identity.verified, identity.customer)
        for identity in identities
        if (identity.kind, identity.value) in wanted
    ]
