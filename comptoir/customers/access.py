"""Permission-checked fetches of identities, proposals and merges: 404 outside the brand."""

from django.http import Http404

from comptoir.customers.models import DuplicateProposal, Identity, MergeRecord
from comptoir.tenancy.models import Membership


def access_identity(membership: Membership, identity_id: int) -> Identity:
    try:
        return Identity.objects.select_related("customer__brand").get(
            pk=identity_id, brand_id=membership.brand_id
        )
    except (Identity.DoesNotExist, ValueError, TypeError):
        raise Http404("No such identity.") from None


def access_proposal(membership: Membership, proposal_id: int) -> DuplicateProposal:
    try:
        return DuplicateProposal.objects.select_related("customer_a", "customer_b").get(
            pk=proposal_id, brand_id=membership.brand_id
        )
    except (DuplicateProposal.DoesNotExist, ValueError, TypeError):
        raise Http404("No such proposal.") from None


def access_merge(membership: Membership, merge_id: int) -> MergeRecord:
    try:
        return MergeRecord.objects.select_related("survivor", "absorbed").get(
            pk=merge_id, brand_id=membership.brand_id
        )
    except (MergeRecord.DoesNotExist, ValueError, TypeError):
        raise Http404("No such merge.") from None
