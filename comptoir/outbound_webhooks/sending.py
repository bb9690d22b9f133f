"""One HTTP attempt of one delivery: signed, to the checked and pinned address, bounded.

Nothing here writes to the database; ``actions.deliver_endpoint`` records what
happened. The body is read up to ``EXCERPT_BYTES`` (what the log shows), and
the attempt is bounded by ``WEBHOOKS_TIMEOUT_SECONDS`` per connect and read.
"""

import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from comptoir.outbound_webhooks.models import WebhookDelivery, WebhookEndpoint
from comptoir.outbound_webhooks.payloads import delivery_body
from comptoir.outbound_webhooks.signing import HEADER, signature_header
from comptoir.privacy.cards import mask_card_numbers
from comptoir.safe_http import EndpointError, pinned_request, read_at_most
from comptoir.text_cleaning import clean_text

EXCERPT_BYTES = 500
USER_AGENT = "Comptoir-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status: int | None  # the HTTP status, None when no answer came
    latency_ms: int
    excerpt: str
    error: str

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while a rotation's overlap lasts."""
    secrets = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until
        and (endpoint.previous_secret_until > now)
    ):
        secrets.append(endpoint.previous_secret)
    return secrets


def attempt(endpoint: WebhookEndpoint, delivery: WebhookDelivery, now: datetime) -> Outcome:
    """POST the delivery to the endpoint once; never raises for what the network does."""
    body = delivery_body(str(delivery.uuid), delivery.event, endpoint.brand.slug)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Comptoir-Delivery": str(delivery.uuid),
        "Comptoir-Event": delivery.kind,
        HEADER: signature_header(signing_secrets(endpoint, now), int(time.time()), body),
    }
    started = time.monotonic()
    status, excerpt, error = None, "", ""
    try:
        with pinned_request(
            "POST",
            endpoint.url,
            allow_private=endpoint.allow_private_addresses,
            timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
            headers=headers,
            content=body,
        ) as response:
            status = response.status_code
            excerpt = read_at_most(response, EXCERPT_BYTES).decode("utf-8", errors="replace")
    except EndpointError as refused:
        error = refused.reason
    latency_ms = int((time.monotonic() - started) * 1000)
    if status is not None and not 200 <= status < 300:
        error = f"HTTP {status}"
    # The receiver's words are shown in the console: no NULs, no card numbers kept.
    excerpt = mask_card_numbers(clean_text(excerpt))[:EXCERPT_BYTES]
    return Outcome(status, latency_ms, excerpt, error[:500])
