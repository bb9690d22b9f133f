"""Calls to URLs that brand administrators configure, guarded against request forgery (SSRF).

One home for the guard, used by the assistant's action endpoint
(``assistant.endpoints``) and by outbound webhooks (``outbound_webhooks.sending``).
A configured URL could aim at ``http://127.0.0.1:6379`` or a cloud metadata
address from inside Comptoir's network. So: http(s) only, no credentials in
the URL, the host is resolved and every address must be public unless the
operator allowed private ones for that configuration; and at call time the host
is resolved again, checked again, and the connection goes to the very address
that was checked (the ``Host`` header and TLS server name keep the real name),
so a DNS answer that changes between check and connect (DNS rebinding) cannot
redirect it. Redirects are never followed (they could point anywhere).
"""

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx


class EndpointError(Exception):
    """The URL is refused or the call failed before an answer; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EndpointTimeout(EndpointError):
    """The endpoint did not answer within the timeout."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise EndpointError(f"cannot resolve {host}: {error}") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to for it."""

    url: str
    host: str
    port: int
    address: str


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
    if not allow_private:
        refused = [a for a in addresses if not is_public_address(a)]
        if refused:
            # One private answer is enough to refuse: the connection could pick it.
            raise EndpointError(
                f"{parts.hostname} resolves to a private or local address ({refused[0]})"
            )
    return Target(url=url, host=parts.hostname, port=port, address=addresses[0])


@contextmanager
def pinned_request(
    method: str,
    url: str,
    *,
    allow_private: bool,
    timeout: float,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    json: Any = None,
) -> Iterator[httpx.Response]:
    """Check ``url``, connect to the address checked, and yield the streamed response.

    The body is not read: the caller reads what it needs (``iter_bytes``), so a
    huge answer costs nothing. Raises EndpointError on a refused address or a
    transport failure, EndpointTimeout on a timeout.
    """
    target = check_url(url, allow_private=allow_private)
    parts = urlsplit(url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    pinned = urlunsplit((parts.scheme, f"{address}:{target.port}", parts.path, parts.query, ""))
    default_port = 443 if parts.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream(
                method,
                pinned,
                content=content,
                json=json,
                headers={**(headers or {}), "Host": host_header},
                extensions={"sni_hostname": target.host},
            ) as response,
        ):
            yield response
    except httpx.TimeoutException as error:
        raise EndpointTimeout(f"timeout after {timeout:g}s") from error
    except httpx.HTTPError as error:
        raise EndpointError(f"{type(error).__name__}: {error}") from error


def read_at_most(response: httpx.Response, limit: int) -> bytes:
    """The first ``limit`` bytes of a streamed body (the rest is never downloaded)."""
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]
