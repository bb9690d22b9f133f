"""Calls to the brand's own systems, guarded against server-side request forgery.

A brand administrator configures an endpoint base URL; Comptoir then calls it
from inside its network. Without a guard, that URL could aim at
``http://127.0.0.1:6379`` or a cloud metadata address. So: http(s) only, the
host is resolved and every address must be public unless the brand explicitly
allows private ones; and at call time the host is resolved again, checked
again, and the connection goes to the very address that was checked (the
``Host`` header and TLS server name keep the real host name), so a DNS answer
that changes between check and connect (DNS rebinding) cannot redirect it.
"""

import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from comptoir.assistant.scope import ANSWERED_CHANNELS

if TYPE_CHECKING:
    from comptoir.assistant.models import AssistantSettings

logger = logging.getLogger(__name__)


class EndpointError(Exception):
    """The brand endpoint cannot be called or did not answer usefully; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise EndpointError(f"cannot resolve {host}: {error}") from error
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to for it."""

    url: str
    host: str
    port: int
    address: str


def operator_trusts(scheme: str, host: str, port: int) -> bool:
    """The origin is in ``ASSISTANT_PRIVATE_ORIGINS``: set by whoever runs Comptoir (the
    demo's own shop on 127.0.0.1), never by a brand's administrator."""
    default_port = 443 if scheme == "https" else 80
    origin = f"{scheme}://{host}" + ("" if port == default_port else f":{port}")
    return origin.lower() in django_settings.ASSISTANT_PRIVATE_ORIGINS


def check_url(url: str, *, allow_private: bool) -> Target:
    """Parse, resolve and check ``url``; raises EndpointError with the reason when refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise EndpointError("only http and https endpoints are allowed")
    if not parts.hostname:
        raise EndpointError("the endpoint URL has no host")
    if parts.username or parts.password:
        raise EndpointError("credentials in the endpoint URL are not allowed")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise EndpointError(f"bad port: {error}") from error
    addresses = resolve(parts.hostname, port)
    if not addresses:
        raise EndpointError(f"{parts.hostname} has no address")
    if not allow_private and not operator_trusts(parts.scheme, parts.hostname, port):
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            # One private answer is enough to refuse: the connection could pick it.
            raise EndpointError(
                f"{parts.hostname} resolves to a private or local address ({refused[0]})"
            )
    return Target(url=url, host=parts.hostname, port=port, address=addresses[0])


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
        check_url(settings.action_base_url, allow_private=settings.allow_private_addresses)
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
    target = check_url(url, allow_private=settings.allow_private_addresses)
    parts = urlsplit(url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    pinned = urlunsplit((parts.scheme, f"{address}:{target.port}", parts.path, parts.query, ""))
    default_port = 443 if parts.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    try:
        with httpx.Client(timeout=settings.timeout_seconds, follow_redirects=False) as client:
            response = client.request(
                method,
                pinned,
                json=json,
                headers={"Host": host_header, "Accept": "application/json"},
                extensions={"sni_hostname": target.host},
            )
    except httpx.TimeoutException as error:
        raise EndpointError(f"timeout after {settings.timeout_seconds}s") from error
    except httpx.HTTPError as error:
        raise EndpointError(f"{type(error).__name__}: {error}") from error
    if not 200 <= response.status_code < 300:
        raise EndpointError(f"HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError as error:
        raise EndpointError("the answer is not JSON") from error


def order_path(order_number: str) -> str:
    return f"orders/{quote(order_number, safe='')}"
