"""HTTP to Meta's Graph API: one client with a timeout, error mapping, bounded downloads.

Shared by the WhatsApp and Messenger providers. Sending maps failures onto
the outbox's ``DeliveryError``: the network, 5xx and rate limits are
temporary (the outbox retries with backoff); other 4xx (a closed 24-hour
window, an unknown recipient, a revoked token) are permanent and carry the
provider's own message as the reason the agent sees.
"""

import ipaddress
import socket
import ssl
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from comptoir.outbox import failures
from comptoir.outbox.senders import DeliveryError

# Graph error codes that mean "slow down", whatever the HTTP status says.
RATE_LIMIT_CODES = {4, 17, 32, 613, 80007, 130429, 131048, 131056}
# "Re-engagement message": WhatsApp's 24-hour window closed; Messenger's outside its window.
WINDOW_CLOSED_CODES = {131047, 10}


def http_timeout() -> float:
    return settings.MESSAGING_HTTP_TIMEOUT


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process: building one loads the CA bundle (about 30 ms).

    httpx builds a new one for every client otherwise, which cost each webhook
    more than storing its messages did.
    """
    return httpx.create_ssl_context()


def graph_client() -> httpx.Client:
    return httpx.Client(timeout=http_timeout(), follow_redirects=False, verify=tls_context())


def json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_object(response: httpx.Response) -> dict[str, Any]:
    error = json_body(response).get("error")
    return error if isinstance(error, dict) else {}


def graph_error(response: httpx.Response) -> str:
    """The provider's explanation of a refusal: ``(#131047) Re-engagement message …``."""
    error = _error_object(response)
    message = error.get("message") or response.reason_phrase or "error"
    details = (
        error.get("error_data", {}).get("details")
        if isinstance(error.get("error_data"), dict)
        else None
    )
    code = error.get("code")
    text = f"HTTP {response.status_code}"
    if code is not None:
        text += f" (#{code})"
    text += f": {message}"
    if details and details not in message:
        text += f" — {details}"
    return text[:1000]


def post_json(
    client: httpx.Client, url: str, body: dict, *, headers: dict[str, str]
) -> dict[str, Any]:
    """POST ``body`` to the Graph API; the JSON answer, or DeliveryError (temporary or not)."""
    try:
        response = client.post(url, json=body, headers=headers)
    except httpx.TransportError as error:
        raise DeliveryError(
            f"provider unreachable: {type(error).__name__}: {error}",
            code=failures.PROVIDER_UNREACHABLE,
        ) from error
    if response.status_code == 200:
        return json_body(response)
    reason = graph_error(response)
    code = _error_object(response).get("code")
    temporary = (
        response.status_code == 429 or response.status_code >= 500 or code in RATE_LIMIT_CODES
    )
    if code in WINDOW_CLOSED_CODES:
        failure = failures.WINDOW_CLOSED
    elif temporary:
        failure = failures.PROVIDER_UNREACHABLE
    else:
        failure = failures.PROVIDER_REFUSED
    raise DeliveryError(reason, permanent=not temporary, code=failure)


class MediaTooLarge(ValueError):
    pass


class UnsafeMediaUrl(ValueError):
    """A URL from a webhook payload the server must not fetch (another scheme, its own network)."""


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_multicast or address.is_reserved)


def check_payload_url(url: str) -> None:
    """Refuse a payload URL that is not http(s) or whose host resolves to a non-public address.

    Messenger hands attachment URLs in the (signed) payload; whoever holds the
    app secret must not make Comptoir fetch its own network (loopback, private
    ranges, cloud metadata at 169.254.169.254). ``MESSAGING_MEDIA_ALLOW_PRIVATE_HOSTS``
    lifts the address check for tests and a local demo. Redirects are never
    followed (``graph_client``), so the checked host is the one fetched.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeMediaUrl(f"not an http(s) URL: {url[:200]!r}")
    if settings.MESSAGING_MEDIA_ALLOW_PRIVATE_HOSTS:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError) as error:
        raise UnsafeMediaUrl(f"host {parts.hostname!r} cannot be resolved: {error}") from error
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not _public(address):
            raise UnsafeMediaUrl(f"host {parts.hostname!r} is not public ({address})")


def download(
    client: httpx.Client, url: str, *, headers: dict[str, str], max_bytes: int
) -> tuple[bytes, str]:
    """GET ``url`` into memory, stopping as soon as it passes ``max_bytes``.

    Returns the bytes and the Content-Type the server declared.
    """
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code != 200:
            response.read()
            raise httpx.HTTPStatusError(
                f"download: {graph_error(response)}", request=response.request, response=response
            )
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise MediaTooLarge(f"{declared} bytes, more than {max_bytes}")
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise MediaTooLarge(f"more than {max_bytes} bytes")
            chunks.append(chunk)
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return b"".join(chunks), content_type
