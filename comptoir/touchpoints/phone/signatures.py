"""Webhook signatures: how a request proves it comes from the brand's telephony provider."""

import base64
import hashlib
import hmac
from collections.abc import Iterable


def generic_signature(secret: str, body: bytes) -> str:
    """``X-Comptoir-Signature`` of the generic format: ``sha256=<hex HMAC-SHA256 of the body>``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def generic_signature_valid(secret: str, body: bytes, header: str) -> bool:
    return bool(secret) and hmac.compare_digest(
        generic_signature(secret, body).encode(), header.strip().encode()
    )


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's ``X-Twilio-Signature``: base64 HMAC-SHA1 of the URL then every POST parameter.

    As Twilio documents it: start from the full URL Twilio requested (query
    string included), append each POST parameter's name and value with no
    separator, parameters sorted by name (a repeated name's values sorted
    too), sign with the account's auth token, base64-encode.
    """
    payload = url + "".join(f"{name}{value}" for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_url_variants(url: str) -> list[str]:
    """The URL as built and with/without its default port: Twilio signs the one it called."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    variants = [url]
    if parts.port is None and default_port:
        with_port = parts._replace(netloc=f"{parts.netloc}:{default_port}")
        variants.append(urlunsplit(with_port))
    elif parts.port == default_port and parts.hostname:
        variants.append(urlunsplit(parts._replace(netloc=parts.hostname)))
    return variants


def twilio_signature_valid(
    auth_token: str, url: str, params: list[tuple[str, str]], header: str
) -> bool:
    if not auth_token or not header:
        return False
    return any(
        hmac.compare_digest(twilio_signature(auth_token, variant, params).encode(), header.encode())
        for variant in twilio_url_variants(url)
    )
