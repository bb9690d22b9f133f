"""The webhook pages of the console: endpoints, their delivery log, redelivery.

Administrators only (403 for agents and supervisors: an endpoint receives the
brand's events); another brand's endpoints and deliveries are 404. The secret is
shown once, on the page answering its creation or rotation, never again.
Changes go through ``outbound_webhooks.actions``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from comptoir.outbound_webhooks import actions
from comptoir.outbound_webhooks.access import REFUSAL, access_delivery, access_endpoint
from comptoir.outbound_webhooks.forms import EndpointForm
from comptoir.outbound_webhooks.models import WebhookEndpoint
from comptoir.tenancy.access import check_role, request_membership
from comptoir.tenancy.models import Membership, Role

DELIVERIES_PER_PAGE = 50


def _admin(request: HttpRequest) -> Membership:
    return check_role(request_membership(request), Role.ADMIN, REFUSAL)


def _overview(request, membership, form=None, status=200):
    endpoints = WebhookEndpoint.objects.filter(brand_id=membership.brand_id).order_by("id")
    return render(
        request,
        "outbound_webhooks/overview.html",
        {
            "membership": membership,
            "endpoints": endpoints,
            "switched_off": [e for e in endpoints if e.disabled_at is not None],
            "form": form or EndpointForm(initial={"is_enabled": True}),
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The brand's endpoints, and the form that adds one (its secret shown on the answer)."""
    membership = _admin(request)
    if request.method != "POST":
        return _overview(request, membership)
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _overview(request, membership, form=form, status=400)
    endpoint, secret = actions.create_endpoint(
        membership,
        url=form.cleaned_data["url"],
        kinds=form.cleaned_data["kinds"],
        description=form.cleaned_data["description"],
        is_enabled=form.cleaned_data["is_enabled"],
    )
    return _endpoint_page(request, membership, endpoint, secret=secret, status=201)


def _endpoint_page(request, membership, endpoint, *, form=None, secret="", status=200):
    deliveries = Paginator(endpoint.deliveries.order_by("-id"), DELIVERIES_PER_PAGE)
    return render(
        request,
        "outbound_webhooks/endpoint.html",
        {
            "membership": membership,
            "endpoint": endpoint,
            "form": form or EndpointForm(instance=endpoint),
            "secret": secret,
            "deliveries": deliveries.get_page(request.GET.get("page")),
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def endpoint_edit(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """An endpoint's settings and its delivery log (newest first)."""
    membership = _admin(request)
    endpoint = access_endpoint(membership, endpoint_id)
    if request.method != "POST":
        return _endpoint_page(request, membership, endpoint)
    form = EndpointForm(request.POST, instance=WebhookEndpoint.objects.get(pk=endpoint.pk))
    if not form.is_valid():
        return _endpoint_page(request, membership, endpoint, form=form, status=400)
    actions.update_endpoint(
        membership,
        endpoint,
        url=form.cleaned_data["url"],
        kinds=form.cleaned_data["kinds"],
        description=form.cleaned_data["description"],
        is_enabled=form.cleaned_data["is_enabled"],
    )
    messages.success(request, gettext("Endpoint saved."))
    return redirect("outbound_webhooks:endpoint", endpoint_id=endpoint.pk)


@require_POST
@login_required
def endpoint_rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    membership = _admin(request)
    endpoint = access_endpoint(membership, endpoint_id)
    secret = actions.rotate_secret(membership, endpoint)
    endpoint.refresh_from_db()
    return _endpoint_page(request, membership, endpoint, secret=secret)


@require_POST
@login_required
def endpoint_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    membership = _admin(request)
    endpoint = access_endpoint(membership, endpoint_id)
    actions.delete_endpoint(membership, endpoint)
    messages.success(request, gettext("Endpoint deleted."))
    return redirect("outbound_webhooks:overview")


@require_POST
@login_required
def delivery_redeliver(request: HttpRequest, delivery_id: int) -> HttpResponse:
    membership = _admin(request)
    delivery = access_delivery(membership, delivery_id)
    actions.redeliver(membership, delivery)
    messages.success(request, gettext("Delivery queued again."))
    return redirect("outbound_webhooks:endpoint", endpoint_id=delivery.endpoint_id)
