"""Web entry points of the e-mail touchpoint.

* The quarantine pages: brand administrators list the mail that could not be
  stored, download it raw and retry it (404 for another brand's mail, 403 for
  agents who are not administrators).
* ``POST /api/inbound/email``: a raw RFC 5322 message, as mail providers'
  inbound webhooks post it, authenticated with an administrator's API token.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from comptoir.api.auth import ApiTokenAuth, ApiTokenRefused
from comptoir.security.ratelimit import RateLimited
from comptoir.tenancy.access import check_role, request_membership
from comptoir.tenancy.models import Membership, Role
from comptoir.touchpoints.email.access import access_quarantined_mail
from comptoir.touchpoints.email.models import MailSource, QuarantinedMail
from comptoir.touchpoints.email.receiving import (
    TRANSIENT_ERRORS,
    OutcomeKind,
    receive_mail,
    retry_quarantined,
)

logger = logging.getLogger(__name__)

QUARANTINE_PAGE_SIZE = 100
ACCEPTED_CONTENT_TYPES = {"message/rfc822", "application/octet-stream", "text/plain", ""}


def _brand_quarantine(membership: Membership) -> QuerySet[QuarantinedMail]:
    return QuarantinedMail.objects.filter(brand=membership.brand).defer("raw")


@require_safe
@login_required
def quarantine_list(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request, require_role=Role.ADMIN)
    show_resolved = request.GET.get("resolved") == "1"
    mails = _brand_quarantine(membership).filter(resolved=show_resolved).order_by("-received_at")
    return render(
        request,
        "email/quarantine.html",
        {
            "membership": membership,
            "mails": mails[:QUARANTINE_PAGE_SIZE],
            "show_resolved": show_resolved,
        },
    )


@require_safe
@login_required
def quarantine_raw(request: HttpRequest, quarantined_id: int) -> HttpResponse:
    """The mail as received (card numbers masked), as an attachment (never rendered)."""
    membership = request_membership(request)
    mail = access_quarantined_mail(membership, quarantined_id, require_role=Role.ADMIN)
    response = HttpResponse(bytes(mail.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="quarantined-{mail.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def quarantine_retry(request: HttpRequest, quarantined_id: int) -> HttpResponse:
    membership = request_membership(request)
    mail = access_quarantined_mail(membership, quarantined_id, require_role=Role.ADMIN)
    if mail.resolved:
        messages.info(request, gettext("This mail was already retried successfully."))
        return redirect("email:quarantine")
    try:
        outcome = retry_quarantined(mail)
    except TRANSIENT_ERRORS:
        messages.error(request, gettext("The database is unavailable; try again later."))
        return redirect("email:quarantine")
    if outcome.kind == OutcomeKind.QUARANTINED:
        messages.error(
            request, gettext("Still not stored: %(reason)s") % {"reason": outcome.reason}
        )
    else:
        messages.success(
            request,
            gettext("Mail #%(id)s retried: %(outcome)s %(detail)s")
            % {"id": mail.pk, "outcome": outcome.kind.value, "detail": outcome.describe()},
        )
    return redirect("email:quarantine")


def _error(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


class AdministratorScopeAuth(ApiTokenAuth):
    """Raw mail is posted with an ``admin``-scoped key (the role is checked below)."""

    admin_only = True


@csrf_exempt
@require_POST
def inbound_email(request: HttpRequest) -> JsonResponse:
    """Store one raw mail for the token's brand; answers once it is committed.

    200 with the outcome (``ingested``, ``duplicate``, ``quarantined``…): the
    mail is safe and must not be posted again. 401 bad token, 403 the token's
    agent is not an administrator, 429 the token's rate limit is reached (with
    Retry-After), 413 too big, 400 empty, 415 not a mail,
    503 the database is unavailable (post it again later).
    """
    try:
        membership = AdministratorScopeAuth()(request)
    except ApiTokenRefused as refused:
        logger.info("inbound mail refused: %s", refused.reason)
        response = _error(401, refused.reason)
        response["WWW-Authenticate"] = 'Bearer realm="comptoir"'
        return response
    except RateLimited as limited:
        response = _error(
            429, f"Too many requests for this API key; retry in {limited.retry_after} s."
        )
        response["Retry-After"] = str(limited.retry_after)
        return response
    except PermissionDenied as forbidden:
        logger.info("inbound mail refused: %s", forbidden)
        return _error(403, str(forbidden))
    try:
        check_role(membership, Role.ADMIN, "Posting raw mail needs an administrator's API key.")
    except PermissionDenied as forbidden:
        logger.info("inbound mail refused: token of non-administrator %s", membership.pk)
        return _error(403, str(forbidden))
    content_type = request.content_type or ""
    if content_type not in ACCEPTED_CONTENT_TYPES:
        logger.info("inbound mail refused: content type %s", content_type)
        return _error(415, "Send the raw message with Content-Type: message/rfc822.")
    limit = settings.EMAIL_MAX_MESSAGE_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        logger.info("inbound mail refused: %d bytes declared", declared)
        return _error(413, f"Message larger than {limit} bytes.")
    # Read the stream directly: ``request.body`` stops at DATA_UPLOAD_MAX_MEMORY_SIZE.
    raw = request.read(limit + 1)
    if len(raw) > limit:
        logger.info("inbound mail refused: over %d bytes", limit)
        return _error(413, f"Message larger than {limit} bytes.")
    if not raw.strip():
        logger.info("inbound mail refused: empty body")
        return _error(400, "Empty body: send the raw message.")
    try:
        outcome = receive_mail(raw, recipients=None, brand=membership.brand, source=MailSource.HTTP)
    except TRANSIENT_ERRORS:
        logger.exception("inbound mail not stored: database unavailable")
        response = _error(503, "Temporarily unavailable; post the message again later.")
        response["Retry-After"] = "60"
        return response
    return JsonResponse(outcome.as_json(), status=200, json_dumps_params={"ensure_ascii": False})
