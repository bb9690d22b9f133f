"""Callback requests in the integrator API (a ninja Router registered in ``comptoir.api.urls``).

An integration (the brand's shop, an IVR, a bot) asks Comptoir to call a
customer back; the request lands in the console's callback queue at its time.
Scoped like every API endpoint to the token's brand.
"""

import uuid
from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from comptoir.api.endpoints import NOT_FOUND, REFUSED, Pagination
from comptoir.api.schemas import ErrorOut, ObjectId
from comptoir.conversations.inbound import IdentityClaim
from comptoir.conversations.models import Channel
from comptoir.customers.access import access_customer
from comptoir.customers.identities import InvalidIdentity
from comptoir.customers.models import IdentityKind
from comptoir.tenancy.models import Membership
from comptoir.touchpoints.phone.access import access_callback
from comptoir.touchpoints.phone.callbacks import customer_phone_claims, request_callback
from comptoir.touchpoints.phone.models import OPEN_CALLBACK_STATUSES, CallbackRequest

phone_router = Router(tags=["callbacks"])


class CallbackIn(Schema):
    number: str = Field(
        max_length=40,
        description="The number to call; national numbers read in the brand's region.",
    )
    requested_for: datetime | None = Field(
        None,
        description="When to call (ISO 8601 with offset); absent or past: as soon as possible.",
    )
    note: str = Field("", max_length=500, description="What the customer wants to talk about.")
    customer_id: ObjectId | None = Field(
        None, description="The customer asking; absent: found (or created) by the number."
    )
    external_id: str | None = Field(
        None,
        max_length=200,
        description="Your id for this request: sending it again returns the first one (200).",
    )


class CallbackOut(Schema):
    id: int
    customer_id: int
    conversation_id: int
    number: str
    requested_for: datetime
    status: str = Field(description="requested, scheduled, done, cancelled or failed")
    note: str
    source: str
    created_at: datetime
    handled_by_id: int | None
    handled_at: datetime | None
    call_id: int | None


def _membership(request: HttpRequest) -> Membership:
    return request.auth  # type: ignore[attr-defined]


def _callbacks(membership: Membership) -> QuerySet[CallbackRequest]:
    return CallbackRequest.objects.filter(brand_id=membership.brand_id).order_by(
        "requested_for", "pk"
    )


@phone_router.post(
    "/callbacks", response={200: CallbackOut, 201: CallbackOut, 400: ErrorOut, **NOT_FOUND}
)
def create_callback(request: HttpRequest, body: CallbackIn) -> Status:
    """Ask for a callback; it appears in the console queue at ``requested_for`` (or now)."""
    membership = _membership(request)
    brand = membership.brand
    claims = [IdentityClaim(IdentityKind.PHONE, body.number)]
    if body.customer_id is not None:
        customer = access_customer(membership, body.customer_id)
        claims = customer_phone_claims(customer) or claims
    external_id = f"callback:{body.external_id or uuid.uuid4().hex}"
    try:
        callback, created = request_callback(
            brand,
            claims,
            body.number,
            requested_for=body.requested_for,
            note=body.note,
            channel=Channel.API,
            external_id=external_id,
            source="api",
        )
    except InvalidIdentity:
        return Status(400, {"detail": "'number' is not a valid phone number."})
    return Status(201 if created else 200, callback)


@phone_router.get("/callbacks", response={200: list[CallbackOut], **REFUSED})
@paginate(Pagination)
def list_callbacks(
    request: HttpRequest, open: bool = False, due: bool = False
) -> QuerySet[CallbackRequest]:
    """The brand's callback requests by time; ``open``: still to handle; ``due``: time has come."""
    callbacks = _callbacks(_membership(request))
    if open or due:
        callbacks = callbacks.filter(status__in=OPEN_CALLBACK_STATUSES)
    if due:
        callbacks = callbacks.filter(requested_for__lte=timezone.now())
    return callbacks


@phone_router.get("/callbacks/{int:callback_id}", response={200: CallbackOut, **NOT_FOUND})
def get_callback(request: HttpRequest, callback_id: ObjectId) -> CallbackRequest:
    return access_callback(_membership(request), callback_id)
