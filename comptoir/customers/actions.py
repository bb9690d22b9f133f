"""State changes of customers and their identities."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.customers.identities import InvalidIdentity, normalise_identity
from comptoir.customers.models import (
    Consent,
    ConsentPurpose,
    Customer,
    DuplicateProposal,
    Identity,
    IdentityKind,
    ProposalStatus,
)
from comptoir.events import kinds
from comptoir.events.actors import CUSTOMER, Actor
from comptoir.events.log import append_event
from comptoir.privacy.cards import mask_card_numbers
from comptoir.security import audit
from comptoir.security.models import AuditAction
from comptoir.tenancy.models import Membership


def clean_display_name(name: str) -> str:
    """A name as stored: trimmed, bounded, and with any card number masked."""
    return mask_card_numbers(name.strip())[:200]


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
            kinds.CUSTOMER_IDENTITY_ADDED,
            {"customer_id": customer.pk, "kind": kind, "value": value, "verified": verified},
            actor=CUSTOMER,
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
            kinds.CUSTOMER_UPDATED,
            {"customer_id": customer.pk, "display_name": display_name},
            actor=CUSTOMER,
            customer=customer,
        )


# --- agents managing identities, proposals and consents ---------------------------------


class CustomerActionError(ValueError):
    """The change does not apply; ``reason`` is shown to the agent as is.

    ``invalid``: the input itself is wrong (HTTP 400); ``forbidden``: the
    agent's role may not (403); otherwise the current state refuses it (409).
    """

    def __init__(self, reason: str, *, forbidden: bool = False, invalid: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.forbidden = forbidden
        self.invalid = invalid


def identity_payload(identity: Identity) -> dict:
    return {
        "id": identity.pk,
        "customer_id": identity.customer_id,
        "kind": identity.kind,
        "value": identity.value,
        "verified": identity.verified,
        "failing_since": identity.failing_since.isoformat() if identity.failing_since else None,
        "failure_reason": identity.failure_reason,
    }


def _refuse_merged(customer: Customer) -> None:
    if customer.merged_into_id is not None:
        raise CustomerActionError(
            _("This customer was merged into customer #%(id)s: change that one instead.")
            % {"id": customer.merged_into_id}
        )


def add_identity(
    actor: Membership, customer: Customer, kind: str, raw_value: str, *, verified: bool = False
) -> Identity:
    """An agent gives ``customer`` an identity (typed from a call, a letter, …).

    A value another customer already holds is refused, and that pair is
    proposed as a duplicate (reason ``same_identity``) instead of moving the
    identity silently.
    """
    _refuse_merged(customer)
    if kind not in IdentityKind.values:
        raise CustomerActionError(_("Unknown kind of identity."), invalid=True)
    try:
        value = normalise_identity(kind, raw_value, region=customer.brand.default_region)
    except InvalidIdentity:
        raise CustomerActionError(
            _("This is not a valid %(kind)s.") % {"kind": IdentityKind(kind).label}, invalid=True
        ) from None
    with transaction.atomic():
        holder = (
            Identity.objects.select_related("customer")
            .filter(brand_id=customer.brand_id, kind=kind, value=value)
            .first()
        )
        if holder is None:
            identity = Identity.objects.create(
                brand_id=customer.brand_id,
                customer=customer,
                kind=kind,
                value=value,
                verified=verified,
            )
            append_event(
                customer.brand_id,
                kinds.CUSTOMER_IDENTITY_ADDED,
                {**identity_payload(identity), "actor_id": actor.pk},
                actor=Actor.agent(actor),
                customer=customer,
            )
            return identity
    if holder.customer_id == customer.pk:
        raise CustomerActionError(_("This customer already has this identity."))
    a, b = sorted((customer.pk, holder.customer_id))
    DuplicateProposal.objects.get_or_create(
        customer_a_id=a,
        customer_b_id=b,
        defaults={
            "brand_id": customer.brand_id,
            "score": 0.99,
            "reasons": [{"code": "same_identity", "detail": f"{kind}:{value}"}],
        },
    )
    raise CustomerActionError(
        _(
            "This identity belongs to another customer (#%(id)s): "
            "they are proposed as duplicates for a supervisor to merge."
        )
        % {"id": holder.customer_id}
    )


def verify_identity(actor: Membership, identity: Identity) -> Identity:
    """The agent checked the identity (the customer proved it on the phone, …)."""
    with transaction.atomic():
        identity = (
            Identity.objects.select_for_update().select_related("customer").get(pk=identity.pk)
        )
        if identity.verified:
            raise CustomerActionError(_("This identity is already verified."))
        identity.verified = True
        identity.save(update_fields=["verified"])
        append_event(
            identity.brand_id,
            kinds.CUSTOMER_IDENTITY_VERIFIED,
            {**identity_payload(identity), "actor_id": actor.pk},
            actor=Actor.agent(actor),
            customer=identity.customer,
        )
    return identity


def remove_identity(actor: Membership, identity: Identity) -> None:
    """Remove a wrong identity; refused for the last one of a customer who has conversations.

    Without any identity no channel could recognise that customer again nor
    reach them, and their conversations would have nobody to answer.
    """
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=identity.customer_id)
        identity = Identity.objects.select_for_update().filter(pk=identity.pk).first()
        if identity is None or identity.customer_id != customer.pk:
            raise CustomerActionError(_("This identity was already removed."))
        others = Identity.objects.filter(customer=customer).exclude(pk=identity.pk).exists()
        if not others and customer.conversations.exists():
            raise CustomerActionError(
                _(
                    "This is the customer's only identity and they have conversations: "
                    "add another identity before removing this one."
                )
            )
        payload = {**identity_payload(identity), "actor_id": actor.pk}
        identity.delete()
        append_event(
            customer.brand_id,
            kinds.CUSTOMER_IDENTITY_REMOVED,
            payload,
            actor=Actor.agent(actor),
            customer=customer,
        )


def set_advisor(actor: Membership, customer: Customer, advisor: Membership | None) -> Customer:
    """Make ``advisor`` the customer's own advisor (None: no advisor any more).

    The assistant's handoffs go to that person first. Supervisors and
    administrators decide it; the advisor must be an active agent of the brand.
    """
    if not actor.is_supervisor:
        raise CustomerActionError(
            _("Only supervisors and administrators choose advisors."), forbidden=True
        )
    _refuse_merged(customer)
    if advisor is not None and (advisor.brand_id != customer.brand_id or not advisor.is_active):
        raise CustomerActionError(
            _("The advisor must be an active agent of the brand."), invalid=True
        )
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        customer.advisor = advisor
        customer.save(update_fields=["advisor", "updated_at"])
        append_event(
            customer.brand_id,
            kinds.CUSTOMER_ADVISOR_CHANGED,
            {
                "customer_id": customer.pk,
                "advisor_id": advisor.pk if advisor else None,
                "actor_id": actor.pk,
            },
            actor=Actor.agent(actor),
            customer=customer,
        )
    return customer


def dismiss_proposal(actor: Membership, proposal: DuplicateProposal) -> DuplicateProposal:
    """An agent says the pair is two people: it is never proposed again."""
    if not actor.is_supervisor:
        raise CustomerActionError(
            _("Only supervisors and administrators decide on duplicates."), forbidden=True
        )
    with transaction.atomic():
        proposal = DuplicateProposal.objects.select_for_update().get(pk=proposal.pk)
        if proposal.status != ProposalStatus.OPEN:
            raise CustomerActionError(_("This proposal was already decided."))
        proposal.status = ProposalStatus.DISMISSED
        proposal.decided_by = actor
        proposal.decided_at = timezone.now()
        proposal.save(update_fields=["status", "decided_by", "decided_at"])
        for customer_id in (proposal.customer_a_id, proposal.customer_b_id):
            append_event(
                proposal.brand_id,
                kinds.CUSTOMER_DUPLICATE_DISMISSED,
                {"customer_id": customer_id, "proposal_id": proposal.pk, "actor_id": actor.pk},
                actor=Actor.agent(actor),
                customer=Customer(pk=customer_id),
            )
    return proposal


def record_consent(
    customer: Customer,
    purpose: str,
    granted: bool,
    *,
    source: str = "",
    actor: Membership | None = None,
) -> Consent:
    """Append the customer's answer about ``purpose`` (the latest answer counts).

    Giving and withdrawing are the same call (``granted`` True or False), from
    wherever the customer answers: the console's customer panel (``actor``: the
    agent who took the customer's word), the widget, a survey's page, the customer
    portal. ``customers.consents.allows`` reads the result.
    """
    if purpose not in ConsentPurpose.values:
        raise CustomerActionError(_("Unknown consent purpose."), invalid=True)
    with transaction.atomic():
        consent = Consent.objects.create(
            brand_id=customer.brand_id,
            customer=customer,
            purpose=purpose,
            granted=granted,
            source=source[:80],
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        append_event(
            customer.brand_id,
            kinds.CUSTOMER_CONSENT_RECORDED,
            {
                "customer_id": customer.pk,
                "purpose": purpose,
                "granted": granted,
                "source": consent.source,
            },
            actor=Actor.agent_or(actor, CUSTOMER),
            customer=customer,
        )
        audit.record(
            AuditAction.CONSENT_RECORDED,
            user=actor.user if actor is not None else None,
            username="" if actor is not None else f"customer:{customer.pk}",
            brand_id=customer.brand_id,
            target=customer,
            purpose=purpose,
            granted=granted,
            source=consent.source,
        )
    return consent
