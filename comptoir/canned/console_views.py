"""``/console/replies/``: canned replies; and the list the reply box's ``/`` offers.

Any agent of the brand keeps their own replies and uses the brand's shared
ones; supervisors and administrators write the shared ones (403 for agents).
Another agent's personal reply is 404, like another brand's.
"""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from comptoir.canned.access import access_canned_reply, check_may_edit, visible_replies
from comptoir.canned.actions import delete_canned_reply, save_canned_reply
from comptoir.canned.forms import CannedReplyForm
from comptoir.canned.placeholders import PLACEHOLDERS, fill, values_for
from comptoir.conversations.access import access_conversation
from comptoir.tenancy.access import check_role, request_membership
from comptoir.tenancy.models import Membership, Role


def _list(request: HttpRequest, membership: Membership, form=None, status: int = 200):
    replies = visible_replies(membership).order_by("shortcut", "pk")
    return render(
        request,
        "canned/list.html",
        {
            "membership": membership,
            "replies": replies,
            "form": form or CannedReplyForm(membership=membership),
            "placeholders": PLACEHOLDERS,
        },
        status=status,
    )


@require_safe
@login_required
def reply_list(request: HttpRequest) -> HttpResponse:
    return _list(request, request_membership(request))


@require_POST
@login_required
def reply_create(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    form = CannedReplyForm(request.POST, membership=membership)
    if not form.is_valid():
        return _list(request, membership, form, status=400)
    if form.is_shared:
        check_role(membership, Role.SUPERVISOR)
    save_canned_reply(membership, None, form.values(), shared=form.is_shared)
    messages.success(request, gettext("Canned reply saved."))
    return redirect("canned:list")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def reply_edit(request: HttpRequest, reply_id: int) -> HttpResponse:
    membership = request_membership(request)
    reply = access_canned_reply(membership, reply_id)
    check_may_edit(membership, reply)
    data = request.POST if request.method == "POST" else None
    # A copy: validating writes the posted values into the form's instance.
    form = CannedReplyForm(data, instance=copy.copy(reply), membership=membership)
    if data is not None and form.is_valid():
        save_canned_reply(membership, reply, form.values(), shared=form.is_shared)
        messages.success(request, gettext("Canned reply saved."))
        return redirect("canned:list")
    return render(
        request,
        "canned/edit.html",
        {"membership": membership, "reply": reply, "form": form, "placeholders": PLACEHOLDERS},
        status=400 if data is not None else 200,
    )


@require_POST
@login_required
def reply_delete(request: HttpRequest, reply_id: int) -> HttpResponse:
    membership = request_membership(request)
    reply = access_canned_reply(membership, reply_id)
    check_may_edit(membership, reply)
    delete_canned_reply(membership, reply)
    messages.success(request, gettext("Canned reply deleted."))
    return redirect("canned:list")


@require_safe
@login_required
def conversation_replies(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """The replies ``/`` offers in this conversation's reply box, placeholders filled."""
    membership = request_membership(request)
    conversation = access_conversation(membership, conversation_id)
    values = values_for(conversation, membership)
    replies = visible_replies(membership).order_by("shortcut", "pk")
    return JsonResponse(
        {
            "replies": [
                {
                    "id": reply.pk,
                    "shortcut": reply.shortcut,
                    "title": reply.title,
                    "shared": reply.is_shared,
                    "text": fill(reply.body, values),
                }
                for reply in replies
            ]
        }
    )
