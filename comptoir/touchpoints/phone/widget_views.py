"""The widget's "Call me back" form: ``POST /widget/api/callbacks`` with the visitor token.

Authenticated and answered exactly like the widget's own endpoints (see
``comptoir.widget.views``): the visitor token is the only credential, and the
request lands on the visitor's own customer. The number is linked to that
customer only if nobody else holds it (never merged silently).
"""

import json
import uuid
from datetime import timedelta

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime

from comptoir.conversations.models import Channel
from comptoir.conversations.payloads import message_customer_payload
from comptoir.customers.identities import InvalidIdentity, normalise_identity
from comptoir.customers.models import IdentityKind
from comptoir.observability.metrics import CALLBACKS_INSTEAD_OF_WAITING
from comptoir.security.ratelimit import check_distinct, check_rate
from comptoir.text_cleaning import clean_data
from comptoir.touchpoints.phone.callbacks import request_callback
from comptoir.touchpoints.phone.models import CallbackRequest
from comptoir.widget.texts import visitor_language
from comptoir.widget.views import error_response, widget_api
from comptoir.widget.visitors import (
    authenticate_visitor,
    bearer_token,
    visitor_claims,
    visitor_customer,
)

# How far ahead a customer may book a callback slot.
MAX_SLOT_AHEAD = timedelta(days=60)
# A slot a little in the past (clock skew, a slow form) means "now".
SLOT_TOLERANCE = timedelta(minutes=5)
# ``CallbackRequest.source`` of a callback chosen instead of waiting in line.
WAIT_OFFER_SOURCE = "wait_offer"
MAX_NOTE_LENGTH = 500


def callback_payload(callback: CallbackRequest) -> dict:
    """What the visitor is told about their own request."""
    return {
        "id": callback.pk,
        "number": callback.number,
        "status": callback.status,
        "requested_for": callback.requested_for.isoformat(),
    }


@widget_api(("POST",))
def request_callback_view(request: HttpRequest) -> HttpResponse:
    """JSON ``{number, when: "now" | ISO 8601 datetime with offset, note?, client_id}``."""
    visitor, brand = authenticate_visitor(bearer_token(request))
    check_rate("callback", visitor.visitor_id)
    language = visitor_language(request, None, brand)
    with translation.override(language):
        try:
            body = clean_data(json.loads(request.body or b"{}"))
        except (ValueError, RecursionError, RequestDataTooBig):
            return error_response(400, "bad_request")
        if not isinstance(body, dict):
            return error_response(400, "bad_request")
        try:
            client_id = uuid.UUID(str(body.get("client_id", ""))).hex
        except ValueError:
            return error_response(400, "bad_request")
        note = body.get("note") or ""
        if not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH:
            return error_response(400, "message_too_long")
        # Chosen from the widget's offer while waiting in line (routing's threshold):
        # counted apart, so a brand sees how many customers preferred it to waiting.
        offered = body.get("from_wait_offer", False)
        if not isinstance(offered, bool):
            return error_response(400, "bad_request")
        when = body.get("when") or "now"
        requested_for = None
        if when != "now":
            requested_for = parse_datetime(when) if isinstance(when, str) else None
            now = timezone.now()
            if (
                requested_for is None
                or timezone.is_naive(requested_for)
                or requested_for < now - SLOT_TOLERANCE
                or requested_for > now + MAX_SLOT_AHEAD
            ):
                return error_response(400, "invalid_slot")
        number = str(body.get("number") or "")
        try:
            # One visitor may not have agents call many different numbers (toll fraud,
            # harassment through the brand's agents): a few per day (RATE_LIMIT_CALLBACK_NUMBERS).
            normalised = normalise_identity(IdentityKind.PHONE, number, region=brand.default_region)
        except InvalidIdentity:
            return error_response(400, "invalid_phone")
        check_distinct("callback_numbers", visitor.visitor_id, normalised)
        customer = visitor_customer(visitor)
        try:
            callback, created = request_callback(
                brand,
                visitor_claims(visitor, customer),
                number,
                requested_for=requested_for,
                note=note,
                channel=Channel.WEBCHAT,
                external_id=f"{visitor.visitor_id}:callback:{client_id}",
                source=WAIT_OFFER_SOURCE if offered else "widget",
                language=language,
            )
        except InvalidIdentity:
            return error_response(400, "invalid_phone")
        if created and offered:
            CALLBACKS_INSTEAD_OF_WAITING.labels(brand=brand.slug).inc()
        message = callback.message
        return JsonResponse(
            {
                "callback": callback_payload(callback),
                "message": message_customer_payload(message, []) if message else None,
            },
            status=201 if created else 200,
        )
