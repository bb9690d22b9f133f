"""The customer's own portal at ``/me/``: sign in by code, their conversations, their data.

The instance has one portal; each brand gives its customers the link
``/me/<brand-slug>/``, where they sign in with a code mailed to their address.
Signed in, ``/me/`` shows every brand the person linked, side by side. A signed-in
person who opens another brand's link is offered to link it: a code sent to an
address that brand holds, and a box naming the brand to tick.

Views parse input, fetch through ``portal.access`` (404 for anything not the
person's), call ``portal.actions`` and render. Forms post with Django's CSRF token.
"""

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from comptoir.conversations.attachment_files import attachment_response
from comptoir.conversations.inbound import InboundAttachment
from comptoir.customers.models import ConsentPurpose
from comptoir.gdpr import actions as gdpr_actions
from comptoir.gdpr.export import export_customer
from comptoir.portal import actions, codes, overview
from comptoir.portal.access import (
    COOKIE_PATH,
    PENDING_COOKIE,
    SESSION_COOKIE,
    access_brand_file,
    access_portal_attachment,
    access_portal_conversation,
    linked_files,
    portal_account,
)
from comptoir.portal.models import CodePurpose, PortalAccount, PortalLink, SignInCode
from comptoir.security import audit
from comptoir.security.models import AuditAction
from comptoir.security.ratelimit import RateLimited, check_rate, client_ip
from comptoir.tenancy.models import Brand
from comptoir.widget.texts import refusal_reason
from comptoir.widget.uploads import guard_uploads

PENDING_SALT = "comptoir.portal.pending"


def _rate_limited(limited: RateLimited) -> HttpResponse:
    response = HttpResponse(
        _("Too many attempts: please wait %(seconds)d seconds and try again.")
        % {"seconds": limited.retry_after},
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(limited.retry_after)
    return response


def portal_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in to the portal, or sent to sign in (the brand's page when the URL names one)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = portal_account(request)
        if account is None:
            slug = kwargs.get("brand_slug")
            target = reverse("portal:sign_in", args=[slug]) if slug else reverse("portal:home")
            return redirect(target)
        response = view(request, account, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    return wrapped


def _brand(slug: str) -> Brand:
    return get_object_or_404(Brand, slug=slug)


def _set_cookie(response: HttpResponse, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Every linked brand side by side; without a session, how to sign in."""
    account = portal_account(request)
    if account is None:
        return render(request, "portal/welcome.html")
    response = render(
        request,
        "portal/home.html",
        {
            "files": overview.brand_overviews(linked_files(account), timezone.now()),
            "links": PortalLink.objects.filter(account=account)
            .select_related("brand")
            .order_by("-created_at"),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """The brand's front door: an address, then a code. Signed in: link this brand."""
    brand = _brand(brand_slug)
    account = portal_account(request)
    linking = account is not None
    if linking and any(f.brand.pk == brand.pk for f in linked_files(account)):
        return redirect("portal:home")
    context = {"brand": brand, "linking": linking, "error": "", "address": ""}
    if request.method != "POST":
        return render(request, "portal/sign_in.html", context)
    address = request.POST.get("address", "")[:320]
    context["address"] = address
    try:
        kind, value = actions.parse_address(brand, address)
    except actions.PortalError as error:
        context["error"] = error.reason
        return render(request, "portal/sign_in.html", context, status=400)
    try:
        check_rate("portal_code_address", client_ip(request))
        check_rate("portal_code", value)
    except RateLimited as limited:
        return _rate_limited(limited)
    code = actions.request_code(
        brand,
        CodePurpose.LINK if linking else CodePurpose.SIGN_IN,
        kind,
        value,
        language=request.LANGUAGE_CODE,
        account=account,
    )
    response = redirect("portal:code", brand_slug=brand.slug)
    response.set_signed_cookie(
        PENDING_COOKIE,
        str(code.pk),
        salt=PENDING_SALT,
        max_age=int((code.expires_at - code.created_at).total_seconds()),
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _pending_code_id(request: HttpRequest) -> int | None:
    value = request.get_signed_cookie(PENDING_COOKIE, default=None, salt=PENDING_SALT)
    return int(value) if value and value.isdigit() else None


def _signed_in(proof: actions.Proof, request: HttpRequest) -> HttpResponse:
    """Finish a proof: a new session (sign-in) or a new link (the consent was ticked)."""
    if proof.code.purpose == CodePurpose.LINK:
        account = portal_account(request)
        if account is None:
            raise actions.PortalError(_("Sign in first, then link this brand."))
        actions.link_brand(proof, account, consented=True)
        response = redirect("portal:home")
    else:
        account, key = actions.sign_in(proof)
        response = redirect("portal:home")
        _set_cookie(response, SESSION_COOKIE, key, int(codes.SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(PENDING_COOKIE, path=COOKIE_PATH)
    return response


def _consent_missing(request: HttpRequest, code: SignInCode | None) -> bool:
    return (
        code is not None and code.purpose == CodePurpose.LINK and request.POST.get("consent") != "1"
    )


@require_http_methods(["GET", "HEAD", "POST"])
def enter_code(request: HttpRequest, brand_slug: str) -> HttpResponse:
    """Type the code mailed to the address; a link's code also needs the brand's box ticked."""
    brand = _brand(brand_slug)
    code_id = _pending_code_id(request)
    code = SignInCode.objects.filter(pk=code_id, brand=brand).first() if code_id else None
    context = {"brand": brand, "code": code, "error": ""}
    if code is None:
        context["error"] = _("This code has expired or was already used: ask for a new one.")
        return render(request, "portal/code.html", context, status=400 if request.POST else 200)
    if request.method != "POST":
        return render(request, "portal/code.html", context)
    try:
        check_rate("portal_verify", client_ip(request))
    except RateLimited as limited:
        return _rate_limited(limited)
    if _consent_missing(request, code):
        context["error"] = _("Tick the box to agree to link this brand.")
        return render(request, "portal/code.html", context, status=400)
    try:
        return _signed_in(actions.prove_with_code(code.pk, request.POST.get("code", "")), request)
    except actions.PortalError as error:
        context["error"] = error.reason
        return render(request, "portal/code.html", context, status=400)


@require_http_methods(["GET", "HEAD", "POST"])
def code_link(request: HttpRequest, brand_slug: str, token: str) -> HttpResponse:
    """The mailed link: GET only shows a button (mail scanners open links), POST proves."""
    brand = _brand(brand_slug)
    code = actions.code_for_link(token)
    if code is None or code.brand_id != brand.pk:
        raise Http404("No such code.")
    context = {"brand": brand, "code": code, "error": "", "token": token}
    if request.method != "POST":
        return render(request, "portal/code_link.html", context)
    try:
        check_rate("portal_verify", client_ip(request))
    except RateLimited as limited:
        return _rate_limited(limited)
    if _consent_missing(request, code):
        context["error"] = _("Tick the box to agree to link this brand.")
        return render(request, "portal/code_link.html", context, status=400)
    try:
        return _signed_in(actions.prove_with_link(token), request)
    except actions.PortalError as error:
        context["error"] = error.reason
        return render(request, "portal/code_link.html", context, status=400)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    key = request.COOKIES.get(SESSION_COOKIE, "")
    if key:
        actions.sign_out(key)
    response = redirect("portal:home")
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


def _guarded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Files are parsed through the widget's upload guard, then the CSRF token is checked.

    The guard must be installed before anything reads the form, which the CSRF
    middleware would do first: it is skipped here and ``csrf_protect`` runs after.
    """
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.portal_upload_guard = guard_uploads(request) if request.method == "POST" else None
        return protected(request, *args, **kwargs)

    return wrapped


def _uploaded(request: HttpRequest) -> list[InboundAttachment]:
    """The accepted files of the form; a refused one refuses the whole message (PortalError)."""
    guard = request.portal_upload_guard
    try:
        files = request.FILES.getlist("files")
    except (RequestDataTooBig, MultiPartParserError, TooManyFilesSent):
        raise actions.PortalError(refusal_reason("file_too_large")) from None
    if guard is not None and guard.refused:
        raise actions.PortalError(refusal_reason(guard.refused[0].code))
    return [InboundAttachment(f.name or "file", f.content_type or "", f.read()) for f in files]


def _write(request: HttpRequest, file, conversation=None) -> HttpResponse:
    result = actions.write_message(
        file.link,
        request.POST.get("text", ""),
        client_id=request.POST.get("client_id", ""),
        conversation=conversation,
        attachments=_uploaded(request),
    )
    return redirect("portal:conversation", conversation_id=result.message.conversation_id)


@require_http_methods(["GET", "HEAD", "POST"])
@_guarded
@portal_page
def conversation(
    request: HttpRequest, account: PortalAccount, conversation_id: int
) -> HttpResponse:
    """One conversation's messages (never an internal note) and a box to answer in it.

    ``?part=thread``: the messages alone, which the page fetches every few seconds.
    """
    conversation, file = access_portal_conversation(account, conversation_id)
    error = ""
    if request.method == "POST":
        try:
            return _write(request, file, conversation)
        except actions.PortalError as error_:
            error = error_.reason
    context = {
        **overview.conversation_page(conversation, timezone.now()),
        "error": error,
        "text": request.POST.get("text", "") if error else "",
        "client_id": uuid.uuid4().hex,
    }
    if request.GET.get("part") == "thread":
        return render(request, "portal/_thread.html", context)
    return render(request, "portal/conversation.html", context, status=400 if error else 200)


@require_safe
@portal_page
def attachment(request: HttpRequest, account: PortalAccount, attachment_id: int) -> HttpResponse:
    """A file of the person's own conversations (never one of an internal note)."""
    return attachment_response(access_portal_attachment(account, attachment_id))


@require_http_methods(["GET", "HEAD", "POST"])
@_guarded
@portal_page
def new_conversation(request: HttpRequest, account: PortalAccount, brand_slug: str) -> HttpResponse:
    """Write to a linked brand; the message joins the open conversation if there is one."""
    file = access_brand_file(account, brand_slug)
    error = ""
    if request.method == "POST":
        try:
            return _write(request, file)
        except actions.PortalError as error_:
            error = error_.reason
    open_conversation = overview.open_conversation(file.customer)
    return render(
        request,
        "portal/new.html",
        {
            "brand": file.brand,
            "open_conversation": open_conversation,
            "error": error,
            "text": request.POST.get("text", "") if error else "",
            "client_id": uuid.uuid4().hex,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@portal_page
def my_data(request: HttpRequest, account: PortalAccount, brand_slug: str) -> HttpResponse:
    """Consents per purpose (shown and changed), the export, the erasure request."""
    file = access_brand_file(account, brand_slug)
    customer = file.customer
    if request.method == "POST":
        if customer is None:
            raise Http404("No customer file.")
        purpose = request.POST.get("purpose", "")
        if purpose not in ConsentPurpose.values:
            return HttpResponse(_("Unknown consent purpose."), status=400)
        actions.change_consent(customer, purpose, request.POST.get("granted") == "1")
        return redirect("portal:data", brand_slug=brand_slug)
    return render(request, "portal/data.html", overview.data_page(file))


@require_safe
@portal_page
def export(request: HttpRequest, account: PortalAccount, brand_slug: str) -> HttpResponse:
    """Everything the brand holds about the person (``gdpr.export``), as a download."""
    file = access_brand_file(account, brand_slug)
    if file.customer is None:
        raise Http404("No customer file.")
    data = export_customer(file.customer)
    audit.record(
        AuditAction.CUSTOMER_EXPORTED,
        username=f"portal:{account.pk}",
        target=file.customer,
        source="portal",
    )
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{file.brand.slug}-my-data.json"'
    return response


@require_POST
@portal_page
def erase(request: HttpRequest, account: PortalAccount, brand_slug: str) -> HttpResponse:
    file = access_brand_file(account, brand_slug)
    if file.customer is None:
        raise Http404("No customer file.")
    # Tracked with its due date like any data request; an administrator fulfils it.
    gdpr_actions.request_erasure(file.customer, source="portal")
    return redirect("portal:data", brand_slug=brand_slug)


@require_POST
@portal_page
def unlink(request: HttpRequest, account: PortalAccount, brand_slug: str) -> HttpResponseRedirect:
    """Stop showing the brand in this account, at once (audited in that brand's log)."""
    file = access_brand_file(account, brand_slug)
    actions.unlink_brand(account, file.brand)
    response = redirect("portal:home")
    if portal_account(request) is None:  # the last brand: signed out with it
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response
