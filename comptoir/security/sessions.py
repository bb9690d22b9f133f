"""Agents' sessions end when idle too long and, in any case, some hours after the login.

Django's own session age counts from the last write; this middleware keeps, in the
session, when the user logged in and when they were last seen (written at most once a
minute, so a busy console does not write its session on every request).
``SESSION_IDLE_TIMEOUT`` and ``SESSION_ABSOLUTE_LIFETIME`` (seconds) set the limits;
past either, the session is flushed and the request goes on anonymous (the console
sends the agent to the login page).
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

LOGIN_AT = "_comptoir_login_at"
SEEN_AT = "_comptoir_seen_at"
SEEN_RESOLUTION = 60


def start_session_clock(request: HttpRequest) -> None:
    """Called on login (``security.signals``): both clocks start now."""
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


def session_expired(session, now: float) -> str:
    """``"idle"`` or ``"absolute"`` when the session is past a limit, else ``""``."""
    login_at = session.get(LOGIN_AT)
    seen_at = session.get(SEEN_AT, login_at)
    if login_at is None:
        return ""
    if now - login_at > settings.SESSION_ABSOLUTE_LIFETIME:
        return "absolute"
    if seen_at is not None and now - seen_at > settings.SESSION_IDLE_TIMEOUT:
        return "idle"
    return ""


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            if LOGIN_AT not in session:
                # A session from before this middleware, or force_login: its clock starts now.
                start_session_clock(request)
            elif session_expired(session, now):
                request._comptoir_logout_reason = "session_expired"  # read by the audit log
                logout(request)
            elif now - session.get(SEEN_AT, 0) >= SEEN_RESOLUTION:
                session[SEEN_AT] = int(now)
        return self.get_response(request)
