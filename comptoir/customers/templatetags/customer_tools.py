"""``{% customer_tools customer as tools %}``: identity resolution in the customer panel.

A tag rather than a field of ``console.queries.CustomerPanel`` so that the
panel's owner does not have to know about duplicates: two queries (open
proposals, merges) whatever the customer's history, plus the agent's role in
fragments that do not have it.
"""

from dataclasses import dataclass

from django import template

from comptoir.console.queries import load_colleagues
from comptoir.conversations.models import Message
from comptoir.customers.consents import current_consents
from comptoir.customers.console_views import customer_merges
from comptoir.customers.duplicates import open_proposals_for, reason_label
from comptoir.customers.models import (
    Consent,
    Customer,
    DuplicateProposal,
    IdentityKind,
    MergeRecord,
)
from comptoir.tenancy.access import membership_for_user
from comptoir.tenancy.models import Membership

register = template.Library()

# The customer page's cross-channel timeline shows this many latest messages.
TIMELINE_LIMIT = 30


@dataclass(frozen=True)
class ProposalLine:
    proposal: DuplicateProposal
    other: Customer
    reasons: list[tuple[str, str]]


@dataclass(frozen=True)
class CustomerTools:
    proposals: list[ProposalLine]
    merges: list[MergeRecord]
    can_decide: bool
    kinds: list[tuple[str, str]]
    # Who a supervisor may choose as the customer's advisor (empty for agents).
    advisor_choices: list[Membership]


def proposal_lines(proposals: list[DuplicateProposal], customer_id: int) -> list[ProposalLine]:
    lines = []
    for proposal in proposals:
        other = (
            proposal.customer_b if proposal.customer_a_id == customer_id else proposal.customer_a
        )
        reasons = [(reason_label(r.get("code", "")), r.get("detail", "")) for r in proposal.reasons]
        lines.append(ProposalLine(proposal, other, reasons))
    return lines


@register.simple_tag(takes_context=True)
def customer_tools(context: template.Context, customer: Customer) -> CustomerTools:
    membership = context.get("membership")  # full pages have it; fragments do not
    request = context.get("request")
    if membership is None and request is not None:
        membership = membership_for_user(request.user)
    can_decide = bool(membership and membership.is_supervisor)
    return CustomerTools(
        proposals=proposal_lines(open_proposals_for(customer), customer.pk),
        merges=customer_merges(customer.pk, customer.brand_id),
        can_decide=can_decide,
        kinds=list(IdentityKind.choices),
        advisor_choices=load_colleagues(membership) if can_decide else [],
    )


@register.filter
def reason_lines(proposal: DuplicateProposal) -> list[tuple[str, str]]:
    return [(reason_label(r.get("code", "")), r.get("detail", "")) for r in proposal.reasons]


@register.simple_tag
def customer_timeline(customer: Customer) -> list[Message]:
    """The customer's latest messages of every conversation and channel, newest first.

    One query; shown on the customer page only (a conversation page already
    shows that conversation's thread, and keeps its query budget).
    """
    return list(
        Message.objects.filter(brand_id=customer.brand_id, conversation__customer=customer)
        .select_related("author__user")
        .order_by("-created_at", "-id")[:TIMELINE_LIMIT]
    )


@register.simple_tag
def customer_consents(customer: Customer) -> list[tuple[str, str, bool, Consent | None]]:
    """The panel's consents: each offered purpose, what it allows now and the answer (one query)."""
    return current_consents(customer)
