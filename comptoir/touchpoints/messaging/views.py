"""Meta's webhooks for WhatsApp and Messenger, one URL per brand and provider.

``GET``: the verification handshake Meta performs when the webhook is
configured. ``POST``: events, trusted only when signed with the app secret of
one of the brand's accounts. Answers (JSON ``{"error": …}`` with the reason):
401 no signature, 413 body too large, 404 no such brand or account, 403 bad
signature, 400 not a webhook payload, 503 database unavailable (Meta delivers
again; what was stored is then a duplicate, a no-op) — also when a message
failed to store for an unexpected reason —, 200 once every message
is committed, with what was received and what was skipped and why.
"""

import hmac
import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from comptoir.text_cleaning import clean_data
from comptoir.touchpoints.messaging.models import MessagingAccount, Provider
from comptoir.touchpoints.messaging.payloads import MalformedPayload
from comptoir.touchpoints.messaging.providers import provider_for
from comptoir.touchpoints.messaging.receiving import TRANSIENT_ERRORS, receive_batch
from comptoir.touchpoints.messaging.signatures import signature_matches

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"


def webhook_max_bytes() -> int:
    return settings.MESSAGING_WEBHOOK_MAX_BYTES


def _refuse(status: int, reason: str, channel: str, brand_slug: str) -> JsonResponse:
    logger.warning("%s webhook for %s refused (%s): %s", channel, brand_slug, status, reason)
    return JsonResponse({"error": reason}, status=status)


def _accounts(brand_slug: str, channel: str) -> list[MessagingAccount]:
    return list(
        MessagingAccount.objects.select_related("brand").filter(
            brand__slug=brand_slug, provider=channel, is_active=True
        )
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest, brand_slug: str) -> HttpResponse:
    return _webhook(request, brand_slug, Provider.WHATSAPP)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def messenger_webhook(request: HttpRequest, brand_slug: str) -> HttpResponse:
    return _webhook(request, brand_slug, Provider.MESSENGER)


def _webhook(request: HttpRequest, brand_slug: str, channel: str) -> HttpResponse:
    if request.method == "GET":
        return _handshake(request, brand_slug, channel)
    return _receive(request, brand_slug, channel)


def _handshake(request: HttpRequest, brand_slug: str, channel: str) -> HttpResponse:
    """Echo ``hub.challenge`` when ``hub.verify_token`` is one of the brand's accounts'."""
    accounts = _accounts(brand_slug, channel)
    if not accounts:
        return _refuse(404, f"no {channel} account for this brand", channel, brand_slug)
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if mode != "subscribe":
        return _refuse(403, "hub.mode must be subscribe", channel, brand_slug)
    if not challenge:
        return _refuse(400, "hub.challenge is missing", channel, brand_slug)
    # Checked against every account (no early exit), in constant time each.
    matches = [_same(token, account.verify_token) for account in accounts]
    if not any(matches):
        return _refuse(403, "wrong hub.verify_token", channel, brand_slug)
    response = HttpResponse(challenge, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _receive(request: HttpRequest, brand_slug: str, channel: str) -> HttpResponse:
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return _refuse(401, f"missing {SIGNATURE_HEADER} header", channel, brand_slug)
    limit = webhook_max_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _refuse(413, f"body larger than {limit} bytes", channel, brand_slug)
    # Read the stream directly: the signature covers the raw bytes.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return _refuse(413, f"body larger than {limit} bytes", channel, brand_slug)
    accounts = _accounts(brand_slug, channel)
    if not accounts:
        return _refuse(404, f"no {channel} account for this brand", channel, brand_slug)
    signed_by = [a for a in accounts if signature_matches(raw, signature, a.app_secret)]
    if not signed_by:
        return _refuse(403, f"wrong {SIGNATURE_HEADER} signature", channel, brand_slug)
    provider = provider_for(channel)
    try:
        # After the signature check (it covers the raw bytes): storable strings only.
        payload = clean_data(json.loads(raw))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        return _refuse(400, f"body is not JSON: {error}", channel, brand_slug)
    if not isinstance(payload, dict) or payload.get("object") != provider.webhook_object:
        reason = f'not a {channel} webhook: "object" must be "{provider.webhook_object}"'
        return _refuse(400, reason, channel, brand_slug)
    try:
        batch = provider.parse_webhook(payload)
    except MalformedPayload as error:
        return _refuse(400, str(error), channel, brand_slug)
    try:
        outcome = receive_batch(provider, signed_by, batch)
    except TRANSIENT_ERRORS as error:
        logger.error("%s webhook for %s: database unavailable: %s", channel, brand_slug, error)
        return JsonResponse({"error": "database unavailable, deliver again later"}, status=503)
    if outcome.failed:
        logger.error(
            "%s webhook for %s: %d message(s) not stored", channel, brand_slug, outcome.failed
        )
        body = {"error": "some messages were not stored, deliver again later", **outcome.as_json()}
        return JsonResponse(body, status=503)
    return JsonResponse(outcome.as_json())
