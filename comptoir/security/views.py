"""Sign-in, second factor and audit-log pages.

The console's login is Django's ``LoginView`` behind the login rate limit; django-axes
(its middleware and backend) refuses locked-out accounts and addresses with 429. The
second-factor pages are reachable with a password-only session; the audit log is for
administrators of the brand.
"""

import csv
import io
import json
from typing import Any

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice

from comptoir.security.audit import record
from comptoir.security.lockout import too_many_requests
from comptoir.security.models import AuditAction, AuditEntry
from comptoir.security.ratelimit import RateLimited, check_rate, client_ip
from comptoir.security.two_factor import (
    base32_secret,
    confirm_totp_device,
    pending_totp_device,
)
from comptoir.tenancy.access import request_membership
from comptoir.tenancy.models import Role

AUDIT_PAGE_SIZE = 200
CODE_MAX_LENGTH = 32


def _rate_limited_login(view):
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            try:
                check_rate("login", client_ip(request))
            except RateLimited as limited:
                return too_many_requests(request, limited.retry_after)
        return view(request, *args, **kwargs)

    return wrapped


console_login = _rate_limited_login(
    auth_views.LoginView.as_view(
        template_name="console/login.html", redirect_authenticated_user=True
    )
)
admin_login = _rate_limited_login(admin.site.login)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/console/"


@login_required
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: its key, then a code from it; shows recovery codes once."""
    user = request.user
    device = pending_totp_device(user)
    error = ""
    if request.method == "POST":
        code = request.POST.get("code", "").strip().replace(" ", "")[:CODE_MAX_LENGTH]
        try:
            check_rate("login", f"2fa:{user.pk}")
        except RateLimited as limited:
            return too_many_requests(request, limited.retry_after)
        if code.isdigit() and device.verify_token(code):
            codes = confirm_totp_device(user, device)
            otp_login(request, device)
            record(AuditAction.TWO_FACTOR_ENABLED, request=request, target=None)
            return render(
                request,
                "security/recovery_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
        error = _("This code is not the one your app shows now. Check the device's clock.")
    return render(
        request,
        "security/setup.html",
        {
            "secret": base32_secret(device),
            "config_url": device.config_url,
            "error": error,
            "next": _next_url(request),
        },
        status=400 if error else 200,
    )


@login_required
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Ask for a code of the authenticator app, or a recovery code (single use)."""
    error = ""
    if request.method == "POST":
        try:
            check_rate("login", f"2fa:{request.user.pk}")
        except RateLimited as limited:
            return too_many_requests(request, limited.retry_after)
        code = request.POST.get("code", "").strip().replace(" ", "")[:CODE_MAX_LENGTH]
        device = match_token(request.user, code) if code else None
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                record(
                    AuditAction.RECOVERY_CODE_USED,
                    request=request,
                    remaining=device.token_set.count(),
                )
            return redirect(_next_url(request))
        record(AuditAction.TWO_FACTOR_FAILED, request=request)
        error = _("This code is not valid. Try the current one, or a recovery code.")
    return render(
        request,
        "security/verify.html",
        {"error": error, "next": _next_url(request)},
        status=400 if error else 200,
    )


@require_safe
@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The brand's latest audit entries, newest first (administrators)."""
    membership = request_membership(request, require_role=Role.ADMIN)
    entries = list(
        AuditEntry.objects.filter(brand=membership.brand)
        .only(
            "at",
            "action",
            "username",
            "ip_address",
            "target_type",
            "target_id",
            "details",
        )
        .order_by("-at", "-id")[:AUDIT_PAGE_SIZE]
    )
    return render(
        request,
        "security/audit_log.html",
        {"membership": membership, "entries": entries, "page_size": AUDIT_PAGE_SIZE},
    )


AUDIT_COLUMNS = ("at", "action", "username", "ip_address", "target_type", "target_id", "details")


def _audit_rows(brand_id: int):
    query = AuditEntry.objects.filter(brand_id=brand_id).order_by("at", "id")
    for entry in query.values_list(*AUDIT_COLUMNS).iterator(chunk_size=2000):
        at, *rest, details = entry
        yield [at.isoformat(), *[value or "" for value in rest], details]


@require_safe
@login_required
def audit_export(request: HttpRequest) -> HttpResponse:
    """The brand's whole audit log, oldest first: ``?format=csv`` (default) or ``json``."""
    membership = request_membership(request, require_role=Role.ADMIN)
    export_format = request.GET.get("format", "csv")
    if export_format not in ("csv", "json"):
        return HttpResponse(_("Unknown format: use csv or json."), status=400)
    record(AuditAction.AUDIT_EXPORTED, request=request, brand_id=membership.brand_id)
    rows = _audit_rows(membership.brand_id)
    if export_format == "json":
        body = "".join(
            json.dumps(dict(zip(AUDIT_COLUMNS, row, strict=True)), ensure_ascii=False) + "\n"
            for row in rows
        )
        response = HttpResponse(body, content_type="application/x-ndjson")
        filename = "audit-log.jsonl"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(AUDIT_COLUMNS)
        for row in rows:
            writer.writerow([*row[:-1], json.dumps(row[-1], ensure_ascii=False)])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        filename = "audit-log.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
