"""The customer's privacy choices from the chat widget's session (``/widget/api/privacy/…``).

The visitor token is the credential (as for every widget endpoint); a visitor who
has not written yet is nobody: 404. Rate limited per visitor (``widget_privacy``).
The customer portal (``/me/``) calls the same actions: ``customers.actions.record_consent``
and ``gdpr.actions.request_data_export`` / ``request_erasure``.
"""

import json

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import translation

from comptoir.customers.actions import CustomerActionError, record_consent
from comptoir.customers.consents import current_consents
from comptoir.gdpr.actions import request_data_export, request_erasure
from comptoir.gdpr.models import RequestKind
from comptoir.security.ratelimit import check_rate
from comptoir.text_cleaning import clean_data
from comptoir.widget.texts import visitor_language
from comptoir.widget.views import error_response, widget_api
from comptoir.widget.visitors import authenticate_visitor, bearer_token, visitor_customer


def _customer_of(request: HttpRequest):
    visitor, brand = authenticate_visitor(bearer_token(request))
    check_rate("widget_privacy", visitor.visitor_id)
    customer = visitor_customer(visitor)
    if customer is None or customer.erased_at is not None:
        raise Http404("No customer yet.")
    return customer, brand


def _body(request: HttpRequest) -> dict | None:
    try:
        body = clean_data(json.loads(request.body or b"{}"))
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _consents(customer) -> list[dict]:
    return [
        {
            "purpose": purpose,
            "label": str(label),
            "allowed": allowed,
            "recorded_at": answer.recorded_at.isoformat() if answer else None,
        }
        for purpose, label, allowed, answer in current_consents(customer)
    ]


@widget_api(("GET", "POST"))
def consents(request: HttpRequest) -> HttpResponse:
    """GET: the customer's consents; POST ``{purpose, granted}``: give or withdraw one."""
    customer, brand = _customer_of(request)
    with translation.override(visitor_language(request, customer.language or None, brand)):
        if request.method == "POST":
            body = _body(request)
            if body is None or not isinstance(body.get("granted"), bool):
                return error_response(400, "bad_request")
            try:
                record_consent(
                    customer, str(body.get("purpose", "")), body["granted"], source="widget"
                )
            except CustomerActionError:
                return error_response(400, "bad_request")
        return JsonResponse({"consents": _consents(customer)})


@widget_api(("POST",))
def data_requests(request: HttpRequest) -> HttpResponse:
    """POST ``{kind: "export" | "erasure"}``: the customer asks; agents answer within a month."""
    customer, _brand = _customer_of(request)
    body = _body(request)
    kind = body.get("kind") if body is not None else None
    if kind == RequestKind.EXPORT:
        data_request = request_data_export(customer, source="widget")
    elif kind == RequestKind.ERASURE:
        data_request = request_erasure(customer, source="widget")
    else:
        return error_response(400, "bad_request")
    return JsonResponse(
        {
            "request_id": data_request.pk,
            "kind": data_request.kind,
            "status": data_request.status,
            "due_at": data_request.due_at.isoformat(),
        },
        status=201,
    )
