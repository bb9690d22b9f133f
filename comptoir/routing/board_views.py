"""``/console/board/``: the supervisor's live board, and what they do from it.

Supervisors and administrators (403 for agents). Every line of waiting conversations,
its longest wait and SLA risks, every agent's presence, load and capacity; from it a
supervisor gives a conversation to an agent, moves it to another team or changes its
priority (each an action, recorded as always). The page swaps in the board fragment on
every event of the brand and every few seconds (waits grow while nothing happens).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from comptoir.conversations.access import access_conversation
from comptoir.conversations.actions import set_priority
from comptoir.conversations.models import Priority
from comptoir.conversations.state import ConversationStateError
from comptoir.events.models import Event
from comptoir.routing.assignment import assign_conversation, transfer_to_team
from comptoir.routing.board import board_of
from comptoir.tenancy.access import access_colleague, access_team, request_membership
from comptoir.tenancy.models import Membership, Role


def _supervisor(request: HttpRequest) -> Membership:
    return request_membership(request, require_role=Role.SUPERVISOR)


def _context(membership: Membership) -> dict:
    return {
        "membership": membership,
        "board": board_of(membership.brand_id),
        "priorities": Priority.choices,
    }


@require_safe
@login_required
def board(request: HttpRequest) -> HttpResponse:
    membership = _supervisor(request)
    last_event_id = (
        Event.objects.filter(brand_id=membership.brand_id)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return render(
        request,
        "routing/board.html",
        {**_context(membership), "last_event_id": last_event_id or 0},
    )


@require_safe
@login_required
def board_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "routing/_board.html", _context(_supervisor(request)))


@require_POST
@login_required
def board_assign(request: HttpRequest, conversation_id: int) -> HttpResponse:
    membership = _supervisor(request)
    conversation = access_conversation(membership, conversation_id)
    if not request.POST.get("assignee"):
        messages.error(request, gettext("Choose an agent."))
        return redirect("routing:board")
    assignee = access_colleague(membership, request.POST["assignee"])
    try:
        assign_conversation(membership, conversation, assignee)
    except ConversationStateError:
        messages.error(request, gettext("This agent cannot be given conversations."))
    return redirect("routing:board")


@require_POST
@login_required
def board_move(request: HttpRequest, conversation_id: int) -> HttpResponse:
    membership = _supervisor(request)
    conversation = access_conversation(membership, conversation_id)
    if not request.POST.get("team"):
        messages.error(request, gettext("Choose a team."))
        return redirect("routing:board")
    team = access_team(membership, request.POST["team"])
    try:
        transfer_to_team(membership, conversation, team)
    except ConversationStateError:
        messages.error(request, gettext("This conversation is resolved."))
    return redirect("routing:board")


@require_POST
@login_required
def board_priority(request: HttpRequest, conversation_id: int) -> HttpResponse:
    membership = _supervisor(request)
    conversation = access_conversation(membership, conversation_id)
    try:
        priority = int(request.POST.get("priority", ""))
        set_priority(membership, conversation, priority)
    except (ValueError, ConversationStateError):
        messages.error(request, gettext("Choose a priority from the list."))
    return redirect("routing:board")
