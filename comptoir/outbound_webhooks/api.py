"""Outbound webhooks in the integrator API (a ninja Router registered in ``api.urls``).

What administrators do on the console's webhook pages, scripted: endpoints
(the secret is in the answer of their creation and of a rotation only), the
kinds they may choose, the delivery log and redelivery. Administrators' tokens
only (403 for other roles, checked with the token); another brand's endpoints
and deliveries are 404. Input goes through the console's ``EndpointForm``: the
same URL check (public addresses only), the same reasons (400 per field).
"""

from datetime import datetime
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StrictBool

from comptoir.api.auth import ApiTokenAuth
from comptoir.api.endpoints import Pagination
from comptoir.api.schemas import ErrorOut, ObjectId
from comptoir.outbound_webhooks import actions
from comptoir.outbound_webhooks.access import REFUSAL, access_delivery, access_endpoint
from comptoir.outbound_webhooks.forms import EndpointForm
from comptoir.outbound_webhooks.models import WebhookDelivery, WebhookEndpoint
from comptoir.outbound_webhooks.subscriptions import SUBSCRIBABLE_KINDS
from comptoir.tenancy.access import check_role
from comptoir.tenancy.models import Membership, Role


class AdministratorTokenAuth(ApiTokenAuth):
    """An API token of one of the brand's administrators; other roles get 403."""

    admin_only = True

    def authenticate(self, request: HttpRequest, token: str) -> Membership:
        return check_role(super().authenticate(request, token), Role.ADMIN, REFUSAL)


webhooks_router = Router(tags=["webhooks"], auth=AdministratorTokenAuth())

REFUSED = {401: ErrorOut, 403: ErrorOut}
NOT_FOUND = {**REFUSED, 404: ErrorOut}


class FormErrorOut(ErrorOut):
    errors: dict[str, list[str]] = Field(description="The reasons per field.")


INVALID = {400: FormErrorOut}


class KindOut(Schema):
    name: str
    description: str


class EndpointIn(Schema):
    url: str = Field(description="http or https, on a public address.")
    kinds: list[str] = Field(description="The event kinds sent (``GET /api/webhooks/kinds``).")
    description: str = ""
    is_enabled: StrictBool = True


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    kinds: list[str]
    is_enabled: bool
    failing_since: datetime | None = Field(description="First failure since the last success.")
    disabled_at: datetime | None = Field(
        description="Set when Comptoir switched the endpoint off after days of failures."
    )
    disabled_reason: str
    created_at: datetime


class EndpointWithSecretOut(EndpointOut):
    secret: str = Field(description="Shown in this answer only: keep it to verify signatures.")


class SecretOut(Schema):
    secret: str = Field(description="The new secret; the previous one signs for a day more.")


class DeliveryOut(Schema):
    id: int
    uuid: UUID = Field(description="The delivery's id, in the Comptoir-Delivery header.")
    event_id: int
    kind: str
    status: str = Field(description="pending or delivered.")
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    latency_ms: int | None
    response_status: int | None
    response_excerpt: str
    error: str
    delivered_at: datetime | None
    redelivery_of_id: int | None


def _admin(request: HttpRequest) -> Membership:
    return request.auth  # type: ignore[attr-defined]


def _invalid(form: EndpointForm) -> Status:
    errors = {field: [str(m) for m in messages] for field, messages in form.errors.items()}
    detail = "; ".join(f"{field}: {m}" for field, messages in errors.items() for m in messages)
    return Status(400, {"detail": detail, "errors": errors})


@webhooks_router.get("/webhooks/kinds", response={200: list[KindOut], **REFUSED})
def list_webhook_kinds(request: HttpRequest) -> list[dict]:
    """The event kinds an endpoint may receive, with what each means."""
    return [{"name": n, "description": k.description} for n, k in SUBSCRIBABLE_KINDS.items()]


@webhooks_router.get("/webhooks/endpoints", response={200: list[EndpointOut], **REFUSED})
@paginate(Pagination)
def list_webhook_endpoints(request: HttpRequest) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(brand_id=_admin(request).brand_id).order_by("id")


@webhooks_router.post(
    "/webhooks/endpoints", response={201: EndpointWithSecretOut, **INVALID, **REFUSED}
)
def create_webhook_endpoint(request: HttpRequest, body: EndpointIn) -> Status:
    """Add an endpoint; its secret is in this answer, and never shown again."""
    form = EndpointForm(body.dict())
    if not form.is_valid():
        return _invalid(form)
    endpoint, secret = actions.create_endpoint(_admin(request), **form.cleaned_data)
    endpoint.secret = secret
    return Status(201, endpoint)


@webhooks_router.get(
    "/webhooks/endpoints/{int:endpoint_id}", response={200: EndpointOut, **NOT_FOUND}
)
def get_webhook_endpoint(request: HttpRequest, endpoint_id: ObjectId) -> WebhookEndpoint:
    return access_endpoint(_admin(request), endpoint_id)


@webhooks_router.put(
    "/webhooks/endpoints/{int:endpoint_id}",
    response={200: EndpointOut, **INVALID, **NOT_FOUND},
)
def update_webhook_endpoint(
    request: HttpRequest, endpoint_id: ObjectId, body: EndpointIn
) -> Status:
    """Replace the endpoint's settings; switched on again, its waiting deliveries resume."""
    admin = _admin(request)
    endpoint = access_endpoint(admin, endpoint_id)
    form = EndpointForm(body.dict(), instance=WebhookEndpoint.objects.get(pk=endpoint.pk))
    if not form.is_valid():
        return _invalid(form)
    return Status(200, actions.update_endpoint(admin, endpoint, **form.cleaned_data))


@webhooks_router.delete("/webhooks/endpoints/{int:endpoint_id}", response={204: None, **NOT_FOUND})
def delete_webhook_endpoint(request: HttpRequest, endpoint_id: ObjectId) -> Status:
    admin = _admin(request)
    actions.delete_endpoint(admin, access_endpoint(admin, endpoint_id))
    return Status(204, None)


@webhooks_router.post(
    "/webhooks/endpoints/{int:endpoint_id}/rotate-secret", response={200: SecretOut, **NOT_FOUND}
)
def rotate_webhook_secret(request: HttpRequest, endpoint_id: ObjectId) -> dict:
    admin = _admin(request)
    return {"secret": actions.rotate_secret(admin, access_endpoint(admin, endpoint_id))}


@webhooks_router.get(
    "/webhooks/endpoints/{int:endpoint_id}/deliveries",
    response={200: list[DeliveryOut], **NOT_FOUND},
)
@paginate(Pagination)
def list_webhook_deliveries(
    request: HttpRequest, endpoint_id: ObjectId
) -> QuerySet[WebhookDelivery]:
    """The endpoint's delivery log, newest first."""
    endpoint = access_endpoint(_admin(request), endpoint_id)
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-id")


@webhooks_router.post(
    "/webhooks/deliveries/{int:delivery_id}/redeliver",
    response={202: DeliveryOut, **NOT_FOUND},
)
def redeliver_webhook(request: HttpRequest, delivery_id: ObjectId) -> Status:
    """Send the delivery's event again, as a new delivery with a new id (queued)."""
    admin = _admin(request)
    return Status(202, actions.redeliver(admin, access_delivery(admin, delivery_id)))
