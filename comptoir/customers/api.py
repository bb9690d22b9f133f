"""API endpoints for identities, duplicate proposals and merges (registered in ``api.urls``).

Any agent's token lists, adds, verifies and removes identities and reads
proposals and merges; deciding on duplicates (merge, "not a duplicate",
unmerge) takes a supervisor's or administrator's token (403 otherwise).
Refusals answer ``{"detail": reason}``: 400 for bad input, 409 for a state that
does not allow the change.
"""

import logging
from datetime import datetime
from typing import Literal

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StrictBool

from comptoir.api.endpoints import Pagination
from comptoir.api.schemas import MAX_BIGINT, CustomerOut, ErrorOut, IdentityOut, ObjectId
from comptoir.customers import actions, merging
from comptoir.customers.access import (
    access_customer,
    access_identity,
    access_merge,
    access_proposal,
)
from comptoir.customers.actions import CustomerActionError
from comptoir.customers.duplicates import reason_label
from comptoir.customers.merging import MergeRefused
from comptoir.customers.models import DuplicateProposal, IdentityKind, MergeRecord
from comptoir.tenancy.access import access_colleague
from comptoir.tenancy.models import Membership

logger = logging.getLogger(__name__)

identities_router = Router(tags=["identities and duplicates"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class IdentityDetailOut(IdentityOut):
    failing_since: datetime | None = Field(None, description="Set when messages bounce.")
    failure_reason: str = ""


class IdentityIn(Schema):
    kind: Literal[tuple(IdentityKind.values)] = Field(  # type: ignore[valid-type]
        description="email, phone, whatsapp, messenger, chat_visitor or customer_number."
    )
    value: str = Field(max_length=320, description="Normalised by Comptoir (E.164, case, …).")
    verified: StrictBool = False


class ReasonOut(Schema):
    code: str
    label: str
    detail: str


class ProposalOut(Schema):
    id: int
    customer_a_id: int
    customer_b_id: int
    score: float
    status: str
    reasons: list[ReasonOut]
    created_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None

    @staticmethod
    def resolve_reasons(proposal: DuplicateProposal) -> list[dict[str, str]]:
        return [
            {
                "code": r.get("code", ""),
                "label": reason_label(r.get("code", "")),
                "detail": r.get("detail", ""),
            }
            for r in proposal.reasons
        ]


class AdvisorIn(Schema):
    advisor_id: ObjectId | None = Field(
        description="An active agent of the brand, or null for none."
    )


class MergeIn(Schema):
    absorbed_id: ObjectId = Field(description="The customer merged into the one in the path.")
    proposal_id: ObjectId | None = Field(
        None, description="The proposal this merge accepts, if any."
    )


class MergeOut(Schema):
    id: int
    survivor_id: int
    absorbed_id: int
    proposal_id: int | None
    actor_id: int | None
    merged_at: datetime
    moved: dict[str, list[int]]
    unmerged_by_id: int | None
    unmerged_at: datetime | None


def _membership(request: HttpRequest) -> Membership:
    return request.auth  # type: ignore[attr-defined]


def _refused(request: HttpRequest, exc: CustomerActionError | MergeRefused) -> Status:
    """400 for bad input, 403 for a role that may not, 409 for a state that refuses (logged)."""
    code = 403 if exc.forbidden else 400 if getattr(exc, "invalid", False) else 409
    logger.info("API %s %s refused (%s): %s", request.method, request.path, code, exc.reason)
    return Status(code, {"detail": exc.reason})


@identities_router.get(
    "/customers/{int:customer_id}/identities",
    response={200: list[IdentityDetailOut], **ERRORS},
)
def list_identities(request: HttpRequest, customer_id: ObjectId):
    """Every identity of the customer, verified or not, with bounce status."""
    customer = access_customer(_membership(request), customer_id)
    return list(customer.identities.order_by("kind", "value"))


@identities_router.post(
    "/customers/{int:customer_id}/identities",
    response={201: IdentityDetailOut, **ERRORS},
)
def post_identity(request: HttpRequest, customer_id: ObjectId, body: IdentityIn):
    """Give the customer an identity; a value held by another customer is refused (409)
    and the two are proposed as duplicates."""
    membership = _membership(request)
    customer = access_customer(membership, customer_id)
    try:
        identity = actions.add_identity(
            membership, customer, body.kind, body.value, verified=body.verified
        )
    except CustomerActionError as exc:
        return _refused(request, exc)
    return Status(201, identity)


@identities_router.post(
    "/identities/{int:identity_id}/verify", response={200: IdentityDetailOut, **ERRORS}
)
def verify_identity(request: HttpRequest, identity_id: ObjectId):
    """Mark the identity verified (the agent checked it with the customer)."""
    membership = _membership(request)
    identity = access_identity(membership, identity_id)
    try:
        return actions.verify_identity(membership, identity)
    except CustomerActionError as exc:
        return _refused(request, exc)


@identities_router.delete("/identities/{int:identity_id}", response={204: None, **ERRORS})
def delete_identity(request: HttpRequest, identity_id: ObjectId):
    """Remove the identity (refused for the last one of a customer with conversations)."""
    membership = _membership(request)
    identity = access_identity(membership, identity_id)
    try:
        actions.remove_identity(membership, identity)
    except CustomerActionError as exc:
        return _refused(request, exc)
    return Status(204, None)


@identities_router.put(
    "/customers/{int:customer_id}/advisor", response={200: CustomerOut, **ERRORS}
)
def put_advisor(request: HttpRequest, customer_id: ObjectId, body: AdvisorIn):
    """Choose the customer's advisor (supervisors and administrators; 403 otherwise)."""
    membership = _membership(request)
    customer = access_customer(membership, customer_id)
    advisor = None
    if body.advisor_id is not None:
        try:
            advisor = access_colleague(membership, body.advisor_id)
        except Http404:
            # Input that names no agent: 400 like any other bad field of the body.
            return _refused(request, CustomerActionError("No such agent.", invalid=True))
    try:
        return actions.set_advisor(membership, customer, advisor)
    except CustomerActionError as exc:
        return _refused(request, exc)


@identities_router.get("/duplicates", response={200: list[ProposalOut], **ERRORS})
@paginate(Pagination)
def list_duplicates(
    request: HttpRequest,
    status: Literal["open", "merged", "dismissed"] = "open",
    customer: int | None = Query(
        None, ge=1, le=MAX_BIGINT, description="Only proposals naming this customer."
    ),
) -> QuerySet[DuplicateProposal]:
    """Likely duplicate pairs, best score first (open ones omit already merged customers)."""
    proposals = DuplicateProposal.objects.filter(
        brand_id=_membership(request).brand_id, status=status
    )
    if status == "open":
        proposals = proposals.filter(
            customer_a__merged_into__isnull=True, customer_b__merged_into__isnull=True
        )
    if customer is not None:
        proposals = proposals.filter(Q(customer_a_id=customer) | Q(customer_b_id=customer))
    return proposals.order_by("-score", "pk")


@identities_router.post(
    "/duplicates/{int:proposal_id}/dismiss", response={200: ProposalOut, **ERRORS}
)
def dismiss_duplicate(request: HttpRequest, proposal_id: ObjectId):
    """ "Not a duplicate": the pair is never proposed again (supervisors and admins)."""
    membership = _membership(request)
    proposal = access_proposal(membership, proposal_id)
    try:
        return actions.dismiss_proposal(membership, proposal)
    except CustomerActionError as exc:
        return _refused(request, exc)


@identities_router.post("/customers/{int:customer_id}/merge", response={201: MergeOut, **ERRORS})
def merge_customers(request: HttpRequest, customer_id: ObjectId, body: MergeIn):
    """Merge ``absorbed_id`` into this customer (supervisors and admins); undo with unmerge."""
    membership = _membership(request)
    survivor = access_customer(membership, customer_id)
    absorbed = access_customer(membership, body.absorbed_id)
    proposal = access_proposal(membership, body.proposal_id) if body.proposal_id else None
    try:
        record = merging.merge_customers(membership, survivor, absorbed, proposal)
    except MergeRefused as exc:
        return _refused(request, exc)
    return Status(201, record)


@identities_router.get("/merges", response={200: list[MergeOut], **ERRORS})
@paginate(Pagination)
def list_merges(
    request: HttpRequest,
    customer: int | None = Query(
        None, ge=1, le=MAX_BIGINT, description="Only merges involving this customer."
    ),
) -> QuerySet[MergeRecord]:
    """The brand's merges, newest first, with what each moved and who did it."""
    merges = MergeRecord.objects.filter(brand_id=_membership(request).brand_id)
    if customer is not None:
        merges = merges.filter(Q(survivor_id=customer) | Q(absorbed_id=customer))
    return merges.order_by("-merged_at", "-pk")


@identities_router.post("/merges/{int:merge_id}/unmerge", response={200: MergeOut, **ERRORS})
def unmerge(request: HttpRequest, merge_id: ObjectId):
    """Undo a merge exactly (409 with the reason when that is no longer safe)."""
    membership = _membership(request)
    record = access_merge(membership, merge_id)
    try:
        return merging.unmerge(membership, record)
    except MergeRefused as exc:
        return _refused(request, exc)
