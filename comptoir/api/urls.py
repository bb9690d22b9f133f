"""The integrator REST API at ``/api/``: OpenAPI at ``/api/openapi.json``, docs at ``/api/docs``.

The docs page is ninja's Swagger UI, rendered from the ``ninja`` app's own static
files (served by whitenoise) rather than a CDN, so it works on a help desk that
has no internet access. Swagger UI's default validator badge would send the
schema's address to validator.swagger.io: it is switched off. Neither page holds
data, so both are public.
"""

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI, Swagger
from ninja.errors import ValidationError
from ninja.operation import Operation
from ninja.parser import Parser

from comptoir.api.auth import ApiTokenAuth, ApiTokenRefused
from comptoir.api.endpoints import conversations_router, customers_router
from comptoir.api.idempotency import idempotent_run, reserve_key
from comptoir.appointments.api import appointments_router
from comptoir.assistant.api import assistant_router
from comptoir.conversations.state import ConversationStateError
from comptoir.customers.api import identities_router
from comptoir.moving_in.api import imports_router
from comptoir.outbound_webhooks.api import webhooks_router
from comptoir.reports.api import reports_router
from comptoir.search.api import search_router
from comptoir.security.ratelimit import RateLimited
from comptoir.sla.api import sla_router
from comptoir.surveys.api import surveys_router
from comptoir.text_cleaning import clean_data
from comptoir.touchpoints.phone.api import phone_router


class ComptoirAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Short operation ids (``list_customers``) for the clients generated from the schema."""
        return operation.view_func.__name__


class CleaningParser(Parser):
    """JSON bodies and query strings with the characters PostgreSQL refuses removed.

    Every string of every request, before any schema reads it (``comptoir.text_cleaning``).
    """

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        return clean_data(json.loads(request.body))

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        return clean_data(super().parse_querydict(data, list_fields, request))


api = ComptoirAPI(
    title="Comptoir API",
    version="1",
    description=(
        "Read and act on the customers and conversations of one brand. "
        "Authenticate with `Authorization: Bearer <api key>`: a key acts as the agent "
        "it was issued to (`comptoir issue_api_token <username>`). "
        "Lists take `limit` and `offset` and return `{items, count}`."
    ),
    urls_namespace="api",
    auth=ApiTokenAuth(),
    docs=Swagger(settings={"validatorUrl": None}),
    parser=CleaningParser(),
)
# Every write may carry an Idempotency-Key (comptoir.api.idempotency): the transaction
# and the recorded answer around the whole operation, the key's check after auth.
api.add_decorator(idempotent_run, mode="view")
api.add_decorator(reserve_key, mode="operation")
api.add_router("/", customers_router)
api.add_router("/", conversations_router)
api.add_router("/", identities_router)
api.add_router("/", phone_router)
api.add_router("/", assistant_router)
api.add_router("/", sla_router)
api.add_router("/", search_router)
api.add_router("/", surveys_router)
api.add_router("/", reports_router)
api.add_router("/", webhooks_router)
api.add_router("/", imports_router)
api.add_router("/", appointments_router)


@api.exception_handler(ApiTokenRefused)
def token_refused(request: HttpRequest, exc: ApiTokenRefused) -> HttpResponse:
    response = api.create_response(request, {"detail": exc.reason}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="comptoir"'
    return response


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": f"Too many requests for this API key; retry in {exc.retry_after} s."},
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    # The role checks of ``tenancy.access``: the reason names the role needed.
    return api.create_response(request, {"detail": str(exc) or "Forbidden."}, status=403)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # The access fetchers' messages ("No such conversation.") name the kind of
    # object only, never whether it exists in another brand.
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(ValidationError)
def invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """422 with pydantic's reasons; 404 when only ids in the path are invalid.

    The path's converters already take digits only, so what fails there is an id
    out of range (0, or beyond a bigint): no such object can exist.
    """
    if exc.errors and all(error.get("loc", ("",))[0] == "path" for error in exc.errors):
        names = ", ".join(str(error["loc"][-1]) for error in exc.errors)
        return api.create_response(
            request, {"detail": f"Not found: {names} out of range."}, status=404
        )
    return api.create_response(request, {"detail": exc.errors}, status=422)


@api.exception_handler(ConversationStateError)
def state_conflict(request: HttpRequest, exc: ConversationStateError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=409)


urlpatterns = [path("", api.urls)]
