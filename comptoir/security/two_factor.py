"""The second factor: TOTP (an authenticator app) with single-use recovery codes.

Built on django-otp: a confirmed ``TOTPDevice`` and a ``StaticDevice`` holding the
recovery codes. ``SecondFactorMiddleware`` sends a signed-in user who has not passed
the second factor in this session to the code page (``security:verify``), or, when
their role requires one (``TWO_FACTOR_REQUIRED_ROLES``, administrators by default)
and they have none yet, to its set-up page (``security:setup``), for every console and
Django admin page. Nothing else of the console is reachable meanwhile.
"""

import time
from base64 import b32encode
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from comptoir.tenancy.models import Membership, Role

PROTECTED_PREFIXES = ("/console/", "/admin/")
RECOVERY_CODES = 10
# Users needing nothing are re-checked this often (a new role, a device set up elsewhere),
# so that most requests cost no query.
EXEMPT_RECHECK_SECONDS = 300
_EXEMPT_UNTIL = "_comptoir_2fa_exempt_until"


def second_factor_required(user) -> bool:
    """The user's role (or superuser status, as an administrator) requires a second factor."""
    required = set(settings.TWO_FACTOR_REQUIRED_ROLES)
    if not required:
        return False
    if user.is_superuser and Role.ADMIN in required:
        return True
    return Membership.objects.filter(user=user, is_active=True, role__in=required).exists()


def _exempt_paths() -> tuple[str, ...]:
    return (
        settings.LOGIN_URL if settings.LOGIN_URL.startswith("/") else reverse(settings.LOGIN_URL),
        reverse("console:logout"),
        reverse("security:setup"),
        reverse("security:verify"),
    )


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        redirect_to = self._required_step(request)
        if redirect_to is None:
            return self.get_response(request)
        url = f"{redirect_to}?{urlencode({'next': request.get_full_path()})}"
        if request.headers.get("x-requested-with") or request.method != "GET":
            return JsonResponse({"error": "second factor required", "location": url}, status=401)
        return HttpResponseRedirect(url)

    def _required_step(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return None
        path = request.path_info
        if not path.startswith(PROTECTED_PREFIXES) or path.startswith(_exempt_paths()):
            return None
        if request.session.get(_EXEMPT_UNTIL, 0) > time.time():
            return None
        return required_step(request, user)


def required_step(request: HttpRequest, user) -> str | None:
    """Where a user who has not passed a second factor must go, or None (and remembered)."""
    if user_has_device(user, confirmed=True):
        return reverse("security:verify")
    if second_factor_required(user):
        return reverse("security:setup")
    request.session[_EXEMPT_UNTIL] = int(time.time()) + EXEMPT_RECHECK_SECONDS
    return None


def pending_totp_device(user) -> TOTPDevice:
    """The user's unconfirmed authenticator being set up (one at a time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def base32_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed in."""
    return b32encode(device.bin_key).decode("ascii").rstrip("=")


def confirm_totp_device(user, device: TOTPDevice) -> list[str]:
    """Make ``device`` the user's authenticator and issue fresh recovery codes (shown once)."""
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return issue_recovery_codes(user)


def issue_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with ``RECOVERY_CODES`` new single-use ones."""
    static, _ = StaticDevice.objects.get_or_create(
        user=user, name="recovery codes", defaults={"confirmed": True}
    )
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes
