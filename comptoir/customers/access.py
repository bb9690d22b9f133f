"""Permission-checked fetches of customers, identities, proposals and merges.

See ``tenancy.access``: 403 below the required role, 404 outside the brand.
Deciding on duplicates is for supervisors, but the actions check that
themselves (``customers.actions``, ``customers.merging``) so that the console
can show their reason; these fetches only ask for an agent by default.
"""

from django.http import Http404

from comptoir.customers.models import Customer, DuplicateProposal, Identity, MergeRecord
from comptoir.tenancy.access import check_role
from comptoir.tenancy.models import Membership, Role


def access_customer(
    membership: Membership, customer_id: int, *, require_role: str = Role.AGENT
) -> Customer:
    check_role(membership, require_role)
    try:
        return Customer.objects.select_related("advisor__user").get(
            pk=customer_id, brand_id=membership.brand_id
        )
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise Http404("No such customer.") from None


def access_identity(
    membership: Membership, identity_id: int, *, require_role: str = Role.AGENT
) -> Identity:
    check_role(membership, require_role)
    try:
        return Identity.objects.select_related("customer__brand").get(
            pk=identity_id, brand_id=membership.brand_id
        )
    except (Identity.DoesNotExist, ValueError, TypeError):
        raise Http404("No such identity.") from None


def access_proposal(
    membership: Membership, proposal_id: int, *, require_role: str = Role.AGENT
) -> DuplicateProposal:
    check_role(membership, require_role)
    try:
        return DuplicateProposal.objects.select_related("customer_a", "customer_b").get(
            pk=proposal_id, brand_id=membership.brand_id
        )
    except (DuplicateProposal.DoesNotExist, ValueError, TypeError):
        raise Http404("No such proposal.") from None


def access_merge(
    membership: Membership, merge_id: int, *, require_role: str = Role.AGENT
) -> MergeRecord:
    check_role(membership, require_role)
    try:
        return MergeRecord.objects.select_related("survivor", "absorbed").get(
            pk=merge_id, brand_id=membership.brand_id
        )
    except (MergeRecord.DoesNotExist, ValueError, TypeError):
        raise Http404("No such merge.") from None
