"""The ``Comptoir-Signature`` header: ``t=<unix time>,v1=<HMAC-SHA256 of "t.body">``.

Shaped like Stripe's: the timestamp is signed with the body, so a receiver
refuses a delivery replayed later (more than a few minutes old) as well as a
forged one. During a secret's rotation the header carries one ``v1`` per valid
secret; a receiver accepts the delivery if one of them matches its secret.
"""

import hashlib
import hmac
import time
from collections.abc import Iterable

HEADER = "Comptoir-Signature"
# What receivers should accept: a signature older than this is a replay.
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets: Iterable[str], timestamp: int, body: bytes) -> str:
    parts = [f"t={timestamp}"] + [f"v1={signature(s, timestamp, body)}" for s in secrets]
    return ",".join(parts)


def verify(
    header: str,
    body: bytes,
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver does (docs/webhooks.md shows the same in a dozen lines)."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in fields if key == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, value) for key, value in fields if key == "v1")
