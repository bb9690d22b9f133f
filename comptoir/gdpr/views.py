"""A customer's data exported (supervisors) or erased (administrators), from the console."""

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from comptoir.customers.access import access_customer
from comptoir.gdpr.erasure import erase_customer
from comptoir.gdpr.export import export_customer
from comptoir.security import audit
from comptoir.security.models import AuditAction
from comptoir.tenancy.access import request_membership
from comptoir.tenancy.models import Role


@require_safe
@login_required
def export(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Everything about the customer as a JSON download (Art. 15 and 20)."""
    membership = request_membership(request)
    customer = access_customer(membership, customer_id, require_role=Role.SUPERVISOR)
    data = export_customer(customer)
    audit.record(AuditAction.CUSTOMER_EXPORTED, request=request, target=customer)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def erase(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Erase the customer for good (Art. 17); the form must say ``confirm=erase``."""
    membership = request_membership(request)
    customer = access_customer(membership, customer_id, require_role=Role.ADMIN)
    if request.POST.get("confirm") != "erase":
        return JsonResponse({"error": _("Confirm the erasure: it cannot be undone.")}, status=400)
    counts = erase_customer(membership, customer)
    return JsonResponse({"erased": counts})
