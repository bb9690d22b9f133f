"""Console actions on identities, duplicates and merges (mounted in ``console.urls``).

Like the other console views: parse the form, fetch through the brand-scoped
accessors, call an action; answer console.js (``X-Requested-With: fetch``)
with 204, or 400/403 and the reason, and a plain form post with a redirect and
a flash message. Any agent adds, verifies and removes identities and reads the
Duplicates page; merging, "not a duplicate" and unmerging are for supervisors
and administrators (the buttons are only shown to them, and refused with 403).
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from comptoir.customers.access import (
    access_customer,
    access_identity,
    access_merge,
    access_proposal,
)
from comptoir.customers.actions import (
    CustomerActionError,
    add_identity,
    dismiss_proposal,
    record_consent,
    remove_identity,
    set_advisor,
    verify_identity,
)
from comptoir.customers.merging import MergeRefused, merge_customers, unmerge
from comptoir.customers.models import DuplicateProposal, IdentityKind, MergeRecord, ProposalStatus
from comptoir.tenancy.access import access_colleague, request_membership

logger = logging.getLogger(__name__)

DUPLICATES_PAGE_LIMIT = 200


def _done(
    request: HttpRequest, customer_id: int, error: CustomerActionError | MergeRefused | None = None
) -> HttpResponse:
    """204/400/403 for console.js, or a redirect (``next`` or the customer page) with a flash."""
    if error is not None:
        logger.info("console %s refused: %s", request.path, error.reason)
    if request.headers.get("X-Requested-With") == "fetch":
        if error is None:
            return HttpResponse(status=204)
        status = 403 if error.forbidden else 400
        return HttpResponse(error.reason, status=status, content_type="text/plain; charset=utf-8")
    if error is not None:
        messages.error(request, error.reason)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("console:customer", args=[customer_id])
    return redirect(target)


@require_POST
@login_required
def identity_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    membership = request_membership(request)
    customer = access_customer(membership, customer_id)
    try:
        add_identity(
            membership,
            customer,
            request.POST.get("kind", ""),
            request.POST.get("value", "")[:320],
            verified=request.POST.get("verified") == "1",
        )
    except CustomerActionError as exc:
        return _done(request, customer.pk, exc)
    return _done(request, customer.pk)


@require_POST
@login_required
def advisor_set(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Choose the customer's advisor among the brand's agents (empty: none)."""
    membership = request_membership(request)
    customer = access_customer(membership, customer_id)
    advisor_id = request.POST.get("advisor", "").strip()
    advisor = access_colleague(membership, advisor_id) if advisor_id else None
    try:
        set_advisor(membership, customer, advisor)
    except CustomerActionError as exc:
        return _done(request, customer.pk, exc)
    return _done(request, customer.pk)


@require_POST
@login_required
def consent_record(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Record what the customer said about a purpose (``granted`` 1 gives, 0 withdraws).

    Any agent may: the customer tells whoever they talk to, on the phone or in a
    message, and withdrawing must be as easy as giving.
    """
    membership = request_membership(request)
    customer = access_customer(membership, customer_id)
    granted = request.POST.get("granted", "")
    if granted not in ("0", "1"):
        return _done(request, customer.pk, CustomerActionError(_("Say yes or no."), invalid=True))
    try:
        record_consent(
            customer,
            request.POST.get("purpose", ""),
            granted == "1",
            source="console",
            actor=membership,
        )
    except CustomerActionError as exc:
        return _done(request, customer.pk, exc)
    return _done(request, customer.pk)


@require_POST
@login_required
def identity_verify(request: HttpRequest, identity_id: int) -> HttpResponse:
    membership = request_membership(request)
    identity = access_identity(membership, identity_id)
    try:
        verify_identity(membership, identity)
    except CustomerActionError as exc:
        return _done(request, identity.customer_id, exc)
    return _done(request, identity.customer_id)


@require_POST
@login_required
def identity_remove(request: HttpRequest, identity_id: int) -> HttpResponse:
    membership = request_membership(request)
    identity = access_identity(membership, identity_id)
    try:
        remove_identity(membership, identity)
    except CustomerActionError as exc:
        return _done(request, identity.customer_id, exc)
    return _done(request, identity.customer_id)


@require_POST
@login_required
def proposal_merge(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """Merge the proposal's pair; ``survivor`` (one of the two ids) keeps the file."""
    membership = request_membership(request)
    proposal = access_proposal(membership, proposal_id)
    survivor, absorbed = proposal.customer_a, proposal.customer_b
    if request.POST.get("survivor") == str(absorbed.pk):
        survivor, absorbed = absorbed, survivor
    try:
        merge_customers(membership, survivor, absorbed, proposal)
    except MergeRefused as exc:
        return _done(request, survivor.pk, exc)
    return _done(request, survivor.pk)


@require_POST
@login_required
def proposal_dismiss(request: HttpRequest, proposal_id: int) -> HttpResponse:
    membership = request_membership(request)
    proposal = access_proposal(membership, proposal_id)
    try:
        dismiss_proposal(membership, proposal)
    except CustomerActionError as exc:
        return _done(request, proposal.customer_a_id, exc)
    return _done(request, proposal.customer_a_id)


@require_POST
@login_required
def merge_undo(request: HttpRequest, merge_id: int) -> HttpResponse:
    membership = request_membership(request)
    record = access_merge(membership, merge_id)
    try:
        unmerge(membership, record)
    except MergeRefused as exc:
        return _done(request, record.survivor_id, exc)
    return _done(request, record.survivor_id)


@require_safe
@login_required
def duplicates(request: HttpRequest) -> HttpResponse:
    """The brand's open proposals, best first, and the latest merges (any agent reads it)."""
    membership = request_membership(request)
    proposals = list(
        DuplicateProposal.objects.filter(
            brand_id=membership.brand_id,
            status=ProposalStatus.OPEN,
            customer_a__merged_into__isnull=True,
            customer_b__merged_into__isnull=True,
        )
        .select_related("customer_a", "customer_b")
        .order_by("-score", "pk")[:DUPLICATES_PAGE_LIMIT]
    )
    merges = list(
        MergeRecord.objects.filter(brand_id=membership.brand_id)
        .select_related("survivor", "absorbed", "actor__user", "unmerged_by__user")
        .order_by("-merged_at", "-pk")[:50]
    )
    return render(
        request,
        "customers/duplicates.html",
        {
            "membership": membership,
            "proposals": proposals,
            "merges": merges,
            "can_decide": membership.is_supervisor,
        },
    )


def customer_merges(customer_id: int, brand_id: int) -> list[MergeRecord]:
    return list(
        MergeRecord.objects.filter(brand_id=brand_id)
        .filter(Q(survivor_id=customer_id) | Q(absorbed_id=customer_id))
        .select_related("survivor", "absorbed", "actor__user")
        .order_by("-merged_at", "-pk")[:20]
    )


IDENTITY_KINDS = IdentityKind.choices
