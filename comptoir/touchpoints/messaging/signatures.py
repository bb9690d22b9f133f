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
    return hmac.compare_digest(signature_for(body, app_secret), header.strip().lower())
