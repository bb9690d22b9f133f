"""An agent's change to a customer's identities may reveal a duplicate: look for it."""

from comptoir.customers.duplicates import propose_duplicates
from comptoir.events.actors import ActorKind
from comptoir.events.kinds import CUSTOMER_IDENTITY_ADDED, CUSTOMER_MERGED, CUSTOMER_UNMERGED
from comptoir.events.listeners import on
from comptoir.events.models import Event
from comptoir.tenancy.models import Brand


def gave_a_customer_identities(event: Event) -> bool:
    """An agent added an identity, or a merge or unmerge moved identities to this customer.

    Identities that messages bring (actor: the customer) are left to the periodic
    scan, ``customers.tasks.propose_recent_duplicates``: ingest never waits for
    this. A merge and an unmerge each append one event per customer; only the
    customer who received identities (the survivor, the one given back) is looked at.
    """
    if event.actor_kind != ActorKind.AGENT:
        return False
    if event.kind == CUSTOMER_MERGED.name:
        return event.customer_id == event.payload["survivor_id"]
    if event.kind == CUSTOMER_UNMERGED.name:
        return event.customer_id == event.payload["absorbed_id"]
    return True


@on(
    [CUSTOMER_IDENTITY_ADDED, CUSTOMER_MERGED, CUSTOMER_UNMERGED],
    when=gave_a_customer_identities,
    in_worker=True,
    lock=lambda event: f"duplicates:{event.brand_id}",
)
def look_for_duplicates(event: Event) -> None:
    brand = Brand.objects.filter(pk=event.brand_id).first()
    if brand is not None and event.customer_id is not None:
        propose_duplicates(brand, focus={event.customer_id})
