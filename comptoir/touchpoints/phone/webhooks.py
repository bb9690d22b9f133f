"""Call-event webhooks: the generic JSON format and the Twilio-compatible adapter.

Each view checks size, signature and fields, then calls ``record_call_event``
and answers once the event is committed. Refusals are logged with their reason
and answered as JSON ``{"error": ...}``: 401 without a signature, 403 with a
wrong one, 400 for a body that cannot be applied, 413 over the size limit. A
replayed event answers 200 and changes nothing.
"""

import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from comptoir.tenancy.models import Brand
from comptoir.text_cleaning import clean_data
from comptoir.touchpoints.phone.calls import record_call_event
from comptoir.touchpoints.phone.models import PhoneLine
from comptoir.touchpoints.phone.parsing import BadCallEvent, parse_generic_event, parse_twilio_event
from comptoir.touchpoints.phone.signatures import generic_signature_valid, twilio_signature_valid

logger = logging.getLogger(__name__)

# Largest webhook body accepted (a transcript fits with room to spare).
DEFAULT_MAX_BODY_BYTES = 256 * 1024
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def max_body_bytes() -> int:
    return getattr(settings, "PHONE_WEBHOOK_MAX_BYTES", DEFAULT_MAX_BODY_BYTES)


def refuse(request: HttpRequest, status: int, reason: str) -> JsonResponse:
    logger.warning("phone webhook %s refused (%s): %s", request.path, status, reason)
    return JsonResponse({"error": reason}, status=status)


def _read_body(request: HttpRequest) -> bytes | None:
    """The raw body, or None when it is over the limit (announced or actual)."""
    limit = max_body_bytes()
    try:
        announced = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        announced = 0
    if announced > limit:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    return body if len(body) <= limit else None


def _brand_lines(brand_slug: str) -> tuple[Brand | None, list[PhoneLine]]:
    brand = Brand.objects.filter(slug=brand_slug).first()
    if brand is None:
        return None, []
    return brand, list(PhoneLine.objects.filter(brand=brand, is_active=True).order_by("pk"))


@csrf_exempt
@require_POST
def generic_events(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """``POST /webhooks/phone/<brand>/events``: one call event as JSON, HMAC-signed."""
    body = _read_body(request)
    if body is None:
        return refuse(request, 413, f"body larger than {max_body_bytes()} bytes")
    signature = request.headers.get("X-Comptoir-Signature", "")
    if not signature:
        return refuse(request, 401, "missing X-Comptoir-Signature header")
    brand, lines = _brand_lines(brand_slug)
    lines = [line for line in lines if line.webhook_secret]
    if brand is None or not lines:
        return refuse(request, 404, "no phone line with a webhook secret for this brand")
    line = next(
        (x for x in lines if generic_signature_valid(x.webhook_secret, body, signature)), None
    )
    if line is None:
        return refuse(request, 403, "wrong X-Comptoir-Signature")
    try:
        data = clean_data(json.loads(body))
    except (ValueError, RecursionError):
        return refuse(request, 400, "the body is not valid JSON")
    try:
        event = parse_generic_event(data, brand)
    except BadCallEvent as exc:
        return refuse(request, 400, str(exc))
    result = record_call_event(brand, event, line=line)
    return JsonResponse(
        {
            "call_id": result.call.pk,
            "conversation_id": result.call.contact.conversation_id,
            "status": result.call.status,
            "duplicate": not result.applied,
        }
    )


@csrf_exempt
@require_POST
def twilio_voice(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """``POST /webhooks/twilio/<brand>/voice``: Twilio's status and recording callbacks."""
    body = _read_body(request)
    if body is None:
        return refuse(request, 413, f"body larger than {max_body_bytes()} bytes")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return refuse(request, 401, "missing X-Twilio-Signature header")
    brand, lines = _brand_lines(brand_slug)
    lines = [line for line in lines if line.twilio_auth_token]
    if brand is None or not lines:
        return refuse(request, 404, "no phone line with a Twilio auth token for this brand")
    try:
        form = request.POST
    except RequestDataTooBig:
        return refuse(request, 413, f"body larger than {max_body_bytes()} bytes")
    params = [(name, value) for name in form for value in form.getlist(name)]
    account = form.get("AccountSid", "")
    lines.sort(key=lambda x: x.twilio_account_sid != account)  # the named account first
    url = request.build_absolute_uri()
    line = next(
        (x for x in lines if twilio_signature_valid(x.twilio_auth_token, url, params, signature)),
        None,
    )
    if line is None:
        return refuse(request, 403, f"wrong X-Twilio-Signature for {url}")
    try:
        # Cleaned after the signature check, which covers the values as Twilio sent them.
        fields = clean_data({name: form.get(name, "") for name in form})
        event = parse_twilio_event(fields, brand)
    except BadCallEvent as exc:
        return refuse(request, 400, str(exc))
    record_call_event(brand, event, line=line)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml; charset=utf-8")
