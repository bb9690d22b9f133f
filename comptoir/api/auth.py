"""Bearer-token authentication of integrators: one API token acts as one agent of one brand.

Only the SHA-256 of a key is stored, so a request is authenticated by hashing
the presented key and looking the hash up. The token's membership becomes
``request.auth``; every endpoint scopes its queries to that membership's brand.
"""

from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from comptoir.security.ratelimit import check_rate
from comptoir.tenancy.models import ApiScope, ApiToken, Membership, hash_api_key

# ``last_used_at`` is informative (which tokens are still in use): refreshing it
# at most once a minute spares a write on every request of a busy integration.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenRefused(Exception):
    """The request carries no usable token; ``reason`` tells the integrator why (HTTP 401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Methods a ``read`` token may use; every other method is a write.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer <key>`` with a key issued by ``ApiToken.issue``.

    Refuses (401, with the reason) a missing, unknown, revoked or expired key;
    refuses (403, with the reason) a write with a ``read`` token and, on the
    administrators' routers (``admin_only``), a token without the ``admin`` scope.
    The token itself is left on ``request.api_token``.
    """

    # Set by the administrators' routers (imports, webhooks, assistant): these need
    # the ``admin`` scope besides the agent's administrator role.
    admin_only = False

    def __call__(self, request: HttpRequest) -> Membership:
        header = request.headers.get(self.header, "")
        scheme, _, key = header.partition(" ")
        if not header:
            raise ApiTokenRefused("Missing Authorization header; send 'Bearer <api key>'.")
        if scheme.lower() != self.openapi_scheme or not key.strip():
            raise ApiTokenRefused("Malformed Authorization header; send 'Bearer <api key>'.")
        return self.authenticate(request, key.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Membership:
        api_token = (
            ApiToken.objects.select_related("membership__brand", "membership__user")
            .filter(key_hash=hash_api_key(token))
            .first()
        )
        if api_token is None:
            raise ApiTokenRefused("Unknown API key.")
        if api_token.revoked_at is not None:
            raise ApiTokenRefused("This API key has been revoked.")
        if api_token.is_expired:
            raise ApiTokenRefused(
                f"This API key expired at {api_token.expires_at.isoformat()}; ask for a new one."
            )
        membership = api_token.membership
        if not membership.is_active or not membership.user.is_active:
            raise ApiTokenRefused("The agent this API key belongs to is no longer active.")
        record_token_use(api_token)
        # Each token has a request budget (RATE_LIMITS["api"]); beyond it RateLimited,
        # answered 429 with Retry-After (api.urls, the inbound mail endpoint).
        check_rate("api", str(api_token.pk))
        check_scope(api_token, request.method or "GET", admin_only=self.admin_only)
        request.api_token = api_token
        return membership


def check_scope(api_token: ApiToken, method: str, *, admin_only: bool = False) -> None:
    """Refuse (``PermissionDenied``: 403 with the reason) what the token's scope excludes.

    The scope narrows the agent's role, never widens it: the role checks of
    ``tenancy.access`` still run after this one.
    """
    if admin_only and api_token.scope != ApiScope.ADMIN:
        raise PermissionDenied(
            f"This endpoint needs an API key with the 'admin' scope; this one's is "
            f"'{api_token.scope}'."
        )
    if method.upper() not in SAFE_METHODS and api_token.scope == ApiScope.READ:
        raise PermissionDenied(
            "This API key has the 'read' scope: it may not write. Ask for a 'write' key."
        )


def record_token_use(api_token: ApiToken) -> None:
    """Stamp ``last_used_at`` unless it was stamped less than a minute ago.

    The conditional UPDATE keeps concurrent requests from writing the row twice
    in the same minute.
    """
    now = timezone.now()
    threshold = now - LAST_USED_RESOLUTION
    if api_token.last_used_at is not None and api_token.last_used_at > threshold:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=threshold), pk=api_token.pk
    ).update(last_used_at=now)
    api_token.last_used_at = now
