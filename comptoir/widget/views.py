"""HTTP side of the customer chat widget: the script and its small JSON API.

The widget runs on the brand's own site, so these endpoints answer any origin
(CORS ``*``) and use no cookie: the visitor token in the ``Authorization``
header is the only credential, and each request sees only that visitor's own
customer. Views parse input and call the conversation and customer actions.
"""

import json
import uuid
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from comptoir.appointments.models import Location
from comptoir.conversations.attachment_files import attachment_response
from comptoir.conversations.inbound import IdentityClaim, InboundAttachment, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Channel
from comptoir.conversations.payloads import message_customer_payload
from comptoir.customers.actions import IdentityLink, link_identity, rename_customer
from comptoir.customers.identities import InvalidIdentity, normalise_identity
from comptoir.customers.models import Customer, IdentityKind
from comptoir.customers.resolution import resolve_customer
from comptoir.security.ratelimit import RateLimited, check_rate, client_ip
from comptoir.sla.customer_wait import wait_answer
from comptoir.surveys.sending import open_widget_surveys
from comptoir.tenancy.models import Brand
from comptoir.text_cleaning import clean_data
from comptoir.widget.texts import (
    opening_texts,
    refusal_reason,
    visitor_language,
    widget_texts,
)
from comptoir.widget.tokens import (
    Visitor,
    VisitorTokenError,
    issue_visitor_token,
    read_visitor_token,
)
from comptoir.widget.uploads import guard_uploads
from comptoir.widget.visitors import (
    authenticate_visitor,
    authenticate_visitor_and_customer,
    bearer_token,
    claims_of,
    customer_card,
    customer_history,
    last_customer_event_id,
    open_conversation_ids,
    visitor_attachment,
    visitor_customer,
)

WIDGET_SCRIPT = Path(__file__).resolve().parent / "static" / "widget" / "widget.js"
MAX_TEXT_LENGTH = 5000
MAX_NAME_LENGTH = 200
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept-Language",
    "Access-Control-Max-Age": "86400",
}


def error_response(status: int, code: str, **extra: Any) -> JsonResponse:
    """``{error, code}`` with the reason in the active language, for the visitor to read."""
    return JsonResponse({"error": refusal_reason(code), "code": code, **extra}, status=status)


def widget_api(methods: tuple[str, ...]) -> Callable:
    """Decorate a widget endpoint: CORS for any origin, no CSRF (no cookies), JSON errors.

    Token problems become 401 and missing objects 404, both as JSON, so that the
    widget can tell an expired session (start a new one) from a refused request;
    a rate limit passed (``security.ratelimit``) is 429 with ``Retry-After``.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
            elif request.method not in methods:
                response = error_response(405, "method_not_allowed")
                response["Allow"] = ", ".join(methods)
            else:
                try:
                    response = view(request, *args, **kwargs)
                except VisitorTokenError as exc:
                    response = error_response(401, exc.code)
                except Http404:
                    response = error_response(404, "not_found")
                except RateLimited as limited:
                    code = "callback_numbers" if limited.scope == "callback_numbers" else ""
                    response = error_response(429, code or "rate_limited")
                    response["Retry-After"] = str(limited.retry_after)
            for header, value in CORS_HEADERS.items():
                response[header] = value
            return response

        return wrapped

    return decorator


def _json_body(request: HttpRequest) -> dict[str, Any] | None:
    try:
        body = clean_data(json.loads(request.body or b"{}"))
    except (ValueError, RecursionError, RequestDataTooBig):
        return None
    return body if isinstance(body, dict) else None


@require_safe
def widget_script(request: HttpRequest) -> HttpResponse:
    """The embeddable script; it finds the API origin from its own ``src``."""
    response = HttpResponse(
        WIDGET_SCRIPT.read_bytes(), content_type="application/javascript; charset=utf-8"
    )
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@widget_api(("POST",))
def session(request: HttpRequest) -> HttpResponse:
    """Start or restore a visitor session: token, texts, and the customer's history.

    A valid token of the same brand keeps its visitor (a returning visitor sees
    their history) and is re-issued with a fresh expiry; an invalid one is
    refused with 401 so the widget drops it and asks again without it.
    """
    body = _json_body(request)
    if body is None:
        return error_response(400, "bad_request")
    if not body.get("token"):
        # New visitors only: a returning visitor's token is renewed freely.
        check_rate("widget_session", client_ip(request))
    # Whether the brand takes appointments (the widget's slot picker), in the same query.
    brand = (
        Brand.objects.filter(slug=str(body.get("brand") or ""))
        .annotate(has_locations=Exists(Location.objects.filter(brand=OuterRef("pk"))))
        .first()
    )
    if brand is None:
        return error_response(404, "unknown_brand")
    language = visitor_language(request, body.get("language"), brand)
    with translation.override(language):
        previous = body.get("token")
        visitor_id = None
        if previous:
            try:
                visitor = read_visitor_token(str(previous))
            except VisitorTokenError as exc:
                return error_response(401, exc.code)
            if visitor.brand_id != brand.pk:
                return error_response(401, "token_wrong_brand")
            visitor_id = visitor.visitor_id
        token, visitor = issue_visitor_token(brand.pk, visitor_id)
        customer = visitor_customer(visitor)
        last_event_id = last_customer_event_id(customer)
        return JsonResponse(
            {
                "token": token,
                "visitor_id": visitor.visitor_id,
                "brand": {
                    "name": brand.name,
                    "slug": brand.slug,
                    "color": brand.widget_color,
                    "appointments": brand.has_locations,
                },
                "language": language,
                "texts": widget_texts(brand),
                "opening": opening_texts(brand),
                "limits": {
                    "max_bytes": settings.ATTACHMENT_MAX_BYTES,
                    "allowed_types": settings.ATTACHMENT_ALLOWED_TYPES,
                    "max_text_length": MAX_TEXT_LENGTH,
                },
                "customer": customer_card(customer),
                "messages": customer_history(customer),
                "surveys": open_widget_surveys(customer.pk if customer else None),
                "last_event_id": last_event_id,
            }
        )


@widget_api(("POST",))
def messages(request: HttpRequest) -> HttpResponse:
    """Receive a visitor's message (multipart: ``text``, ``client_id``, ``files``).

    ``client_id`` makes a retried send idempotent. A refused file never loses
    the text sent with it: the text is stored and the answer (413/415) carries
    both the stored message and the reason.
    """
    guard = guard_uploads(request)
    known = authenticate_visitor_and_customer(bearer_token(request))
    visitor, brand, customer = known.visitor, known.brand, known.customer
    check_rate("widget_message", visitor.visitor_id)
    check_rate("widget_message_address", client_ip(request))
    language = visitor_language(request, None, brand)
    with translation.override(language):
        try:
            text = request.POST.get("text", "")
            client_id = request.POST.get("client_id", "")
            files = request.FILES.getlist("files")
        except RequestDataTooBig:
            return error_response(413, "message_too_long", message=None)
        except (MultiPartParserError, TooManyFilesSent):
            return error_response(400, "bad_request", message=None)
        try:
            client_id = uuid.UUID(str(client_id)).hex
        except ValueError:
            return error_response(400, "bad_request", message=None)
        if len(text) > MAX_TEXT_LENGTH:
            return error_response(400, "message_too_long", message=None)
        attachments = [
            InboundAttachment(f.name or "file", f.content_type or "", f.read()) for f in files
        ]
        refusal = guard.refused[0] if guard.refused else None
        if not text.strip() and not attachments:
            if refusal is not None:
                return error_response(refusal.status, refusal.code, message=None)
            return error_response(400, "empty_message", message=None)
        result = ingest_message(
            InboundMessage(
                brand=brand,
                channel=Channel.WEBCHAT,
                external_id=f"{visitor.visitor_id}:{client_id}",
                text=text.strip(),
                identities=claims_of(visitor, known.email),
                attachments=attachments,
                display_name=customer.display_name if customer else "",
                language=language,
            )
        )
        message = result.message
        # A message stored just now without files has none: no query for them.
        stored_files = list(message.attachments.all()) if attachments or not result.created else []
        payload = message_customer_payload(message, stored_files)
        if refusal is not None:
            return error_response(refusal.status, refusal.code, message=payload)
        return JsonResponse({"message": payload}, status=201 if result.created else 200)


@widget_api(("POST",))
def identify(request: HttpRequest) -> HttpResponse:
    """Attach the e-mail (and name) a visitor leaves to their customer record.

    An e-mail that already belongs to another customer is not linked and
    nothing about that customer is revealed: the answer is the same as for a new
    address (``received``, and the card with what the visitor typed). Merging the
    two records is for an agent to decide.
    """
    visitor, brand = authenticate_visitor(bearer_token(request))
    check_rate("widget_identify", visitor.visitor_id)
    language = visitor_language(request, None, brand)
    with translation.override(language):
        body = _json_body(request)
        if body is None:
            return error_response(400, "bad_request")
        email = str(body.get("email") or "").strip()
        name = str(body.get("name") or "").strip()[:MAX_NAME_LENGTH]
        try:
            email = normalise_identity(IdentityKind.EMAIL, email)
        except InvalidIdentity:
            return error_response(400, "invalid_email")
        try:
            customer, _link = _link_visitor_email(visitor, brand, email, name, language)
        except IntegrityError:
            # The visitor's first message created their customer at this very moment.
            customer, _link = _link_visitor_email(visitor, brand, email, name, language)
        # The same answer whether or not someone else holds the address: the card
        # echoes what the visitor gave, so the endpoint tells nobody who is a customer.
        return JsonResponse(
            {"received": True, "customer": {"name": customer.display_name, "email": email}}
        )


def _link_visitor_email(
    visitor: Visitor, brand: Brand, email: str, name: str, language: str
) -> tuple[Customer, IdentityLink]:
    with transaction.atomic():
        customer = visitor_customer(visitor)
        if customer is None:
            # Only the visitor's own claim: resolving with the e-mail too could
            # attach this visitor to whoever already owns that address.
            customer = resolve_customer(
                brand,
                [IdentityClaim(IdentityKind.CHAT_VISITOR, visitor.visitor_id, verified=True)],
                language=language,
            )
        link = link_identity(customer, IdentityKind.EMAIL, email)
        if name:
            rename_customer(customer, name)
    return customer, link


@widget_api(("POST",))
def wait(request: HttpRequest) -> HttpResponse:
    """Where the visitor's waiting conversations stand: place in line and wait in seconds.

    The widget asks while the visitor waits for a person (every few seconds, so the
    place it shows follows the line) and stops once the answer is empty.
    """
    visitor, brand = authenticate_visitor(bearer_token(request))
    customer = visitor_customer(visitor)
    waiting = []
    if customer is not None:
        with translation.override(visitor_language(request, None, brand)):
            for conversation_id in open_conversation_ids(customer):
                answer = wait_answer(conversation_id)
                if answer is not None:
                    waiting.append({"conversation_id": conversation_id, **answer})
    return JsonResponse({"waiting": waiting})


@widget_api(("GET", "HEAD"))
def attachment_file(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """Stream a file of the visitor's own conversations.

    The token comes in the Authorization header only, never in the URL: links
    get copied, shared and logged. The widget fetches files and shows them
    from blob URLs.
    """
    token = bearer_token(request)
    visitor = read_visitor_token(token)
    response = attachment_response(visitor_attachment(visitor, attachment_id))
    # The widget's page lives on the brand's own site.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
