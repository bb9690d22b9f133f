"""Signed visitor tokens: the widget's only credential.

A token names a brand and a visitor id; whoever holds it is that visitor. It is
signed with ``SECRET_KEY`` and expires after ``WIDGET_TOKEN_MAX_AGE`` seconds.
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

SALT = "comptoir.widget.visitor"


class VisitorTokenError(Exception):
    """The token is missing, forged or expired; ``reason`` says which."""

    def __init__(self, reason: str, code: str):
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Visitor:
    brand_id: int
    visitor_id: str


def issue_visitor_token(brand_id: int, visitor_id: str | None = None) -> tuple[str, Visitor]:
    visitor = Visitor(brand_id=brand_id, visitor_id=visitor_id or uuid.uuid4().hex)
    token = signing.dumps(
        {"b": visitor.brand_id, "v": visitor.visitor_id}, salt=SALT, compress=True
    )
    return token, visitor


def read_visitor_token(token: str | None) -> Visitor:
    if not token:
        raise VisitorTokenError("missing visitor token", "token_missing")
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.WIDGET_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise VisitorTokenError("visitor token expired", "token_expired") from None
    except signing.BadSignature:
        raise VisitorTokenError("invalid visitor token", "token_invalid") from None
    try:
        return Visitor(brand_id=int(data["b"]), visitor_id=uuid.UUID(str(data["v"])).hex)
    except (KeyError, TypeError, ValueError):
        raise VisitorTokenError("invalid visitor token", "token_invalid") from None
