"""The first middleware: health probes, ``/metrics``, request ids and request metrics.

``/healthz``, ``/readyz`` and ``/metrics`` are answered here, before the rest of the
middleware: no session, CSRF, locale or ``ALLOWED_HOSTS`` work (a load balancer
probes by IP address, whatever the host name), and no database access for
``/healthz``. Every other request gets a request id (logs, ``X-Request-ID``) and is
counted by route name, so that ``/console/conversations/17/`` and ``/…/18/`` are one
series.
"""

import contextvars
import hmac
import ipaddress
import time
from functools import cache

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from comptoir.observability.asgi import valid_request_id
from comptoir.observability.exposition import render_metrics
from comptoir.observability.logs import request_id
from comptoir.observability.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS
from comptoir.observability.readiness import run_checks

HEALTHZ, READYZ, METRICS = "/healthz", "/readyz", "/metrics"
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing else is checked (a liveness probe restarts on failure)."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> HttpResponse:
    """200 when every dependency answers, else 503 naming the failing check."""
    ready, checks = run_checks()
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


@cache
def _networks(cidrs: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


def metrics_access_granted(request: HttpRequest) -> bool:
    """The right bearer token (``METRICS_TOKEN``), or a client in ``METRICS_ALLOWED_NETWORKS``."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").encode(), token.encode())
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in network for network in _networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_access_granted(request):
        return JsonResponse(
            {
                "detail": "metrics are served to METRICS_ALLOWED_NETWORKS or with "
                "'Authorization: Bearer <METRICS_TOKEN>'"
            },
            status=403,
        )
    body, content_type = render_metrics()
    return HttpResponse(body, content_type=content_type)


def route_name(request: HttpRequest) -> str:
    """The URL's name (``console:conversation``), else its pattern; ``unmatched`` for a 404."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    if match.url_name:
        return match.view_name
    return match.route or "unmatched"


def _enter_request(request: HttpRequest) -> contextvars.Token | None:
    """Use the id ``observability.asgi`` set around the request, or set one (tests, WSGI)."""
    if request_id.get() is not None:
        return None
    return request_id.set(valid_request_id(request.headers.get("X-Request-ID", "")))


def _record(request: HttpRequest, response: HttpResponse, started: float) -> None:
    method = request.method if request.method in KNOWN_METHODS else "other"
    route = route_name(request)
    HTTP_REQUESTS.labels(route=route, method=method, status=str(response.status_code)).inc()
    HTTP_REQUEST_SECONDS.labels(route=route, method=method).observe(time.perf_counter() - started)


class ObservabilityMiddleware:
    """See the module docstring; sync and async, so it never forces a thread hop."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self.__acall__(request)
        path = request.path_info
        if path == HEALTHZ:
            return healthz(request)
        if path == READYZ:
            return readyz(request)
        if path == METRICS:
            return metrics(request)
        started = time.perf_counter()
        token = _enter_request(request)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id.get()
            _record(request, response, started)
            return response
        finally:
            if token is not None:
                request_id.reset(token)

    async def __acall__(self, request: HttpRequest):
        path = request.path_info
        if path == HEALTHZ:
            return healthz(request)
        if path == READYZ:
            # Off the event loop and off the thread that runs sync views.
            return await sync_to_async(readyz, thread_sensitive=False)(request)
        if path == METRICS:
            return await sync_to_async(metrics)(request)
        started = time.perf_counter()
        token = _enter_request(request)
        try:
            response = await self.get_response(request)
            response["X-Request-ID"] = request_id.get()
            _record(request, response, started)
            return response
        finally:
            if token is not None:
                request_id.reset(token)
