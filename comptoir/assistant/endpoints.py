"""Calls to the brand's own systems, guarded against server-side request forgery.

A brand administrator configures an endpoint base URL; Comptoir then calls it
from inside its network, through ``comptoir.safe_http`` (public addresses only
unless the operator allows private ones, resolved and pinned at connect time).
"""

import logging
from json import loads as json_loads
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from comptoir.assistant.scope import ANSWERED_CHANNELS
from comptoir.safe_http import EndpointError, check_url, pinned_request, read_at_most

if TYPE_CHECKING:
    from comptoir.assistant.models import AssistantSettings

logger = logging.getLogger(__name__)

__all__ = ["EndpointError", "call_endpoint", "check_url", "order_path", "validate_settings"]

# The largest answer read from a brand's system (an order, a list of parcels).
MAX_ANSWER_BYTES = 1_000_000


def operator_trusts(url: str) -> bool:
    """The URL's origin is in ``ASSISTANT_PRIVATE_ORIGINS``: set by whoever runs Comptoir (the
    demo's own shop on 127.0.0.1), never by a brand's administrator."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    default_port = 443 if parts.scheme == "https" else 80
    origin = f"{parts.scheme}://{parts.hostname}" + ("" if port == default_port else f":{port}")
    return origin.lower() in django_settings.ASSISTANT_PRIVATE_ORIGINS


def may_reach_private(settings: "AssistantSettings", url: str) -> bool:
    """Private addresses are allowed for this brand (by the operator, in Django admin) or
    for this origin (``ASSISTANT_PRIVATE_ORIGINS``)."""
    return settings.allow_private_addresses or operator_trusts(url)


def validate_settings(settings: "AssistantSettings") -> None:
    """Model validation (admin form): the endpoint must pass the same check as a call."""
    unknown = set(settings.answer_channels or []) - set(ANSWERED_CHANNELS)
    if unknown:
        raise ValidationError(
            {
                "answer_channels": _("Not a channel the assistant answers on: %(channels)s")
                % {"channels": ", ".join(sorted(unknown))}
            }
        )
    if not 0 < settings.timeout_seconds <= 30:
        raise ValidationError({"timeout_seconds": _("Between 0 and 30 seconds.")})
    if not settings.action_base_url:
        return
    try:
        check_url(
            settings.action_base_url,
            allow_private=may_reach_private(settings, settings.action_base_url),
        )
    except EndpointError as error:
        raise ValidationError(
            {
                "action_base_url": _("This endpoint is refused: %(reason)s")
                % {"reason": error.reason}
            }
        ) from error


def call_endpoint(
    settings: "AssistantSettings", path: str, *, method: str = "GET", json: Any = None
) -> Any:
    """Call ``{base}/{path}`` on the brand's endpoint and return its JSON body.

    Raises EndpointError on a refused address, a timeout, a non-2xx answer or
    a body that is not JSON. Never follows redirects (a redirect could point
    anywhere, past the check).
    """
    base = settings.action_base_url.rstrip("/")
    if not base:
        raise EndpointError("the brand has no action endpoint configured")
    url = f"{base}/{path.lstrip('/')}"
    with pinned_request(
        method,
        url,
        allow_private=may_reach_private(settings, url),
        timeout=settings.timeout_seconds,
        json=json,
        headers={"Accept": "application/json"},
    ) as response:
        if not 200 <= response.status_code < 300:
            raise EndpointError(f"HTTP {response.status_code}")
        body = read_at_most(response, MAX_ANSWER_BYTES)
    try:
        return json_loads(body)
    except ValueError as error:
        raise EndpointError("the answer is not JSON") from error


def order_path(order_number: str) -> str:
    return f"orders/{quote(order_number, safe='')}"
