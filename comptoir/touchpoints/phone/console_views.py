"""Console side of the phone: click-to-call and the callback queue.

Same conventions as ``comptoir.console.views``: login required, everything
fetched within the agent's brand (404 otherwise), a plain form post answered
with a redirect and a ``fetch`` from console.js with 204 or 400 and a reason.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from comptoir.console.queries import latest_event_id
from comptoir.customers.access import access_customer
from comptoir.customers.identities import InvalidIdentity
from comptoir.customers.models import IdentityKind
from comptoir.tenancy.access import request_membership
from comptoir.touchpoints.phone.access import access_callback
from comptoir.touchpoints.phone.callbacks import CallStateError, close_callback
from comptoir.touchpoints.phone.click_to_call import call_back_now, start_outbound_call
from comptoir.touchpoints.phone.models import (
    OPEN_CALLBACK_STATUSES,
    CallbackRequest,
    CallbackStatus,
)
from comptoir.touchpoints.phone.providers import CallProviderError

# The queue shows this many due requests and this many upcoming ones.
QUEUE_LIMIT = 200


def _done(request: HttpRequest, back: str, error: str | None = None) -> HttpResponse:
    if request.headers.get("X-Requested-With") == "fetch":
        if error:
            return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
        return HttpResponse(status=204)
    if error:
        messages.error(request, error)
    return redirect(back)


def _provider_refusal(exc: Exception) -> str:
    reason = getattr(exc, "reason", "") or str(exc)
    return gettext("The call could not be placed: %(reason)s") % {"reason": reason}


@require_POST
@login_required
def call_customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Click-to-call one of the customer's phone numbers; the call joins their conversation."""
    membership = request_membership(request)
    customer = access_customer(membership, customer_id)
    number = request.POST.get("number", "").strip()
    back = reverse("console:customer", args=[customer.pk])
    if not customer.identities.filter(kind=IdentityKind.PHONE, value=number).exists():
        return _done(request, back, gettext("This number is not one of the customer's."))
    try:
        call = start_outbound_call(membership, number)
    except (CallProviderError, CallStateError, InvalidIdentity) as exc:
        return _done(request, back, _provider_refusal(exc))
    return _done(request, reverse("console:conversation", args=[call.contact.conversation_id]))


@require_safe
@login_required
def callback_queue(request: HttpRequest) -> HttpResponse:
    """Callback requests: due ones first (oldest due first), then the upcoming slots.

    A request for a later slot moves into the due list when its time comes;
    the page reloads itself every minute so that it does.
    """
    membership = request_membership(request)
    now = timezone.now()
    open_requests = CallbackRequest.objects.filter(
        brand_id=membership.brand_id, status__in=OPEN_CALLBACK_STATUSES
    ).select_related("customer", "handled_by__user", "call")
    due = list(open_requests.filter(requested_for__lte=now).order_by("requested_for", "pk"))
    upcoming = list(open_requests.filter(requested_for__gt=now).order_by("requested_for", "pk"))
    recent = list(
        CallbackRequest.objects.filter(brand_id=membership.brand_id)
        .exclude(status__in=OPEN_CALLBACK_STATUSES)
        .select_related("customer", "handled_by__user", "call")
        .order_by("-handled_at", "-pk")[:20]
    )
    context = {
        "membership": membership,
        "last_event_id": latest_event_id(membership.brand_id),
        "due": due[:QUEUE_LIMIT],
        "upcoming": upcoming[:QUEUE_LIMIT],
        "recent": recent,
        "now": now,
    }
    response = render(request, "phone/callbacks.html", context)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def callback_call(request: HttpRequest, callback_id: int) -> HttpResponse:
    membership = request_membership(request)
    callback = access_callback(membership, callback_id)
    back = reverse("phone:callbacks")
    try:
        call = call_back_now(membership, callback)
    except (CallProviderError, CallStateError, InvalidIdentity) as exc:
        return _done(request, back, _provider_refusal(exc))
    if request.POST.get("open") == "conversation":
        back = reverse("console:conversation", args=[call.contact.conversation_id])
    return _done(request, back)


def _close(request: HttpRequest, callback_id: int, status: str) -> HttpResponse:
    membership = request_membership(request)
    callback = access_callback(membership, callback_id)
    try:
        close_callback(membership, callback, status)
    except CallStateError:
        return _done(
            request, reverse("phone:callbacks"), gettext("This callback request is already closed.")
        )
    return _done(request, reverse("phone:callbacks"))


@require_POST
@login_required
def callback_done(request: HttpRequest, callback_id: int) -> HttpResponse:
    return _close(request, callback_id, CallbackStatus.DONE)


@require_POST
@login_required
def callback_cancel(request: HttpRequest, callback_id: int) -> HttpResponse:
    return _close(request, callback_id, CallbackStatus.CANCELLED)
