"""The answer to a refused sign-in: 429 with ``Retry-After`` and the login page's reason.

Used for django-axes lockouts (``AXES_LOCKOUT_CALLABLE``) and for the login rate limit.
"""

import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    minutes = max(1, math.ceil(retry_after / 60))
    response = render(
        request,
        "security/locked_out.html",
        {
            "reason": _(
                "Too many sign-in attempts. Try again in %(minutes)s minutes, "
                "or ask an administrator."
            )
            % {"minutes": minutes}
        },
        status=429,
    )
    response["Retry-After"] = str(int(retry_after))
    return response


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    return too_many_requests(request, int(settings.AXES_COOLOFF_TIME * 3600))
