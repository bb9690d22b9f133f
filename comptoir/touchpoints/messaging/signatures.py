"""Meta's webhook signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(body, app secret)>``."""

import hashlib
import hmac


def signature_for(body: bytes, app_secret: str) -> str:
    """The header value Meta sends for ``body`` (also what tests and the README compute)."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_matches(body: bytes, header: str, app_secret: str) -> bool:
    """Constant-time comparison, so a forger learns nothing from response times."""
    if not app_secret:
        return False
    # Bytes: compare_digest refuses non-ASCII str (a forged header must be a 403, not a 500).
    given = header.strip().lower().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(signature_for(body, app_secret).encode(), given)
