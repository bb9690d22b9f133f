"""The console's privacy pages: data requests (supervisors) and records of processing (admins).

Thin views: brand- and role-checked fetches (``gdpr.access``, ``customers.access``),
then ``gdpr.actions``. Exports are built on each download (``export.export_archive``)
and audited; an erasure is fulfilled by an administrator who confirms it.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from comptoir.customers.access import access_customer
from comptoir.gdpr import actions
from comptoir.gdpr.access import access_data_request
from comptoir.gdpr.export import export_archive
from comptoir.gdpr.models import DataRequest, RequestKind, RequestStatus
from comptoir.gdpr.processing import records_of_processing
from comptoir.security import audit
from comptoir.security.models import AuditAction
from comptoir.tenancy.access import request_membership
from comptoir.tenancy.actions import set_retention
from comptoir.tenancy.models import Role

CLOSED_SHOWN = 50


@require_safe
@login_required
def requests_page(request: HttpRequest) -> HttpResponse:
    """Open requests by due date (overdue first, highlighted), then the latest closed ones."""
    membership = request_membership(request, require_role=Role.SUPERVISOR)
    brand_requests = DataRequest.objects.filter(brand_id=membership.brand_id).select_related(
        "customer", "requested_by__user", "fulfilled_by__user"
    )
    open_requests = list(brand_requests.filter(status=RequestStatus.OPEN).order_by("due_at", "pk"))
    closed = list(
        brand_requests.exclude(status=RequestStatus.OPEN).order_by("-fulfilled_at", "-pk")[
            :CLOSED_SHOWN
        ]
    )
    return render(
        request,
        "gdpr/requests.html",
        {
            "membership": membership,
            "open_requests": open_requests,
            "closed_requests": closed,
            "now": timezone.now(),
            "is_admin": membership.has_role(Role.ADMIN),
        },
    )


@require_POST
@login_required
def request_open(request: HttpRequest, customer_id: int) -> HttpResponse:
    """An agent records the customer's request (on the phone, by letter): it is then tracked."""
    membership = request_membership(request)
    customer = access_customer(membership, customer_id)
    kind = request.POST.get("kind", "")
    if kind == RequestKind.EXPORT:
        actions.request_data_export(customer, requested_by=membership, source="console")
    elif kind == RequestKind.ERASURE:
        actions.request_erasure(customer, requested_by=membership, source="console")
    else:
        return HttpResponse(gettext("Unknown request."), status=400)
    messages.success(request, gettext("Request recorded: it is due within a month."))
    return redirect("console:customer", customer.pk)


@require_safe
@login_required
def request_archive(request: HttpRequest, data_request_id: int) -> HttpResponse:
    """The export's zip (``customer.json`` + files), for the person; audited."""
    membership = request_membership(request, require_role=Role.SUPERVISOR)
    data_request = access_data_request(membership, data_request_id)
    if data_request.kind != RequestKind.EXPORT:
        return HttpResponse(gettext("This is not an export request."), status=400)
    archive = export_archive(data_request.customer)
    audit.record(
        AuditAction.CUSTOMER_EXPORTED,
        request=request,
        target=data_request.customer,
        data_request=data_request.pk,
    )
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="customer-{data_request.customer_id}-export.zip"'
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def request_fulfil(request: HttpRequest, data_request_id: int) -> HttpResponse:
    """Close a request as done: an export delivered, or (administrators) the erasure made."""
    membership = request_membership(request, require_role=Role.SUPERVISOR)
    data_request = access_data_request(membership, data_request_id)
    try:
        if data_request.kind == RequestKind.ERASURE:
            if not membership.has_role(Role.ADMIN):
                raise PermissionDenied(gettext("Only administrators erase customers."))
            if request.POST.get("confirm") != "erase":
                messages.error(request, gettext("Confirm the erasure: it cannot be undone."))
                return redirect("gdpr:requests")
            actions.fulfil_erasure(membership, data_request)
            messages.success(request, gettext("The customer was erased."))
        else:
            actions.fulfil_export(membership, data_request)
            messages.success(request, gettext("Request marked as fulfilled."))
    except actions.DataRequestError:
        messages.info(request, gettext("This request is already closed."))
    return redirect("gdpr:requests")


@require_POST
@login_required
def request_reject(request: HttpRequest, data_request_id: int) -> HttpResponse:
    membership = request_membership(request, require_role=Role.SUPERVISOR)
    data_request = access_data_request(membership, data_request_id)
    try:
        actions.reject_request(membership, data_request)
    except actions.DataRequestError:
        messages.info(request, gettext("This request is already closed."))
    return redirect("gdpr:requests")


@require_safe
@login_required
def processing_page(request: HttpRequest) -> HttpResponse:
    """Records of processing (Art. 30): what is stored, why, for how long, from the settings."""
    membership = request_membership(request, require_role=Role.ADMIN)
    return render(
        request,
        "gdpr/processing.html",
        {
            "membership": membership,
            "records": records_of_processing(membership.brand),
            "retention_months": membership.brand.retention_months,
            "audit_days": settings.AUDIT_RETENTION_DAYS,
        },
    )


@require_POST
@login_required
def retention_save(request: HttpRequest) -> HttpResponse:
    """The brand's retention period in months (0: kept), from the records page."""
    membership = request_membership(request, require_role=Role.ADMIN)
    try:
        months = int(request.POST.get("retention_months", ""))
    except ValueError:
        months = -1
    if not 0 <= months <= 240:
        messages.error(request, gettext("Give a number of months from 0 to 240."))
        return redirect("gdpr:processing")
    set_retention(membership, months)
    messages.success(request, gettext("Retention period saved."))
    return redirect("gdpr:processing")
