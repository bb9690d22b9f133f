"""The integrator REST API at ``/api/``: OpenAPI at ``/api/openapi.json``, docs at ``/api/docs``.

The docs page is ninja's Swagger UI, rendered from the ``ninja`` app's own static
files (served by whitenoise) rather than a CDN, so it works on a help desk that
has no internet access. Swagger UI's default validator badge would send the
schema's address to validator.swagger.io: it is switched off. Neither page holds
data, so both are public.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from ninja import NinjaAPI, Swagger
from ninja.operation import Operation

from comptoir.api.auth import ApiTokenAuth, ApiTokenRefused
from comptoir.api.endpoints import conversations_router, customers_router
from comptoir.assistant.api import assistant_router
from comptoir.conversations.state import ConversationStateError
from comptoir.customers.api import identities_router
from comptoir.search.api import search_router
from comptoir.touchpoints.phone.api import phone_router


class ComptoirAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Short operation ids (``list_customers``) for the clients generated from the schema."""
        return operation.view_func.__name__


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
)
api.add_router("/", customers_router)
api.add_router("/", conversations_router)
api.add_router("/", identities_router)
api.add_router("/", phone_router)
api.add_router("/", assistant_router)
api.add_router("/", search_router)


@api.exception_handler(ApiTokenRefused)
def token_refused(request: HttpRequest, exc: ApiTokenRefused) -> HttpResponse:
    response = api.create_response(request, {"detail": exc.reason}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="comptoir"'
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


@api.exception_handler(ConversationStateError)
def state_conflict(request: HttpRequest, exc: ConversationStateError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=409)


urlpatterns = [path("", api.urls)]
