"""The agent console: server-rendered pages, the fragments console.js refreshes, and actions.

Views only parse input, fetch through the permission-checked accessors and call
the conversation actions; what a page shows comes from ``console.queries``.
Every action answers a plain form post with a redirect (the console works
without JavaScript) and a ``fetch`` from console.js (``X-Requested-With:
fetch``) with 204, or 400 and a readable reason.
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe

from comptoir.assistant import engine
from comptoir.console.forms import ComposeForm, ResendForm
from comptoir.console.queries import (
    InboxView,
    latest_event_id,
    load_colleagues,
    load_customer_panel,
    load_inbox,
    load_tag_suggestions,
    load_tags,
    load_timeline,
    parse_inbox_view,
)
from comptoir.conversations.access import access_attachment, access_conversation, access_tag
from comptoir.conversations.actions import (
    ChannelUnreachableError,
    add_note,
    mark_pending,
    reopen_conversation,
    reply_options,
    resend_reply,
    resolve_conversation,
    send_reply,
)
from comptoir.conversations.attachment_files import attachment_response
from comptoir.conversations.models import Conversation, Direction, Message
from comptoir.conversations.state import ConversationStateError
from comptoir.conversations.tags import TagError, tag_conversation, untag_conversation
from comptoir.customers.access import access_customer
from comptoir.customers.models import Customer
from comptoir.routing.assignment import assign_conversation
from comptoir.routing.presence import set_availability
from comptoir.search.actions import views_of
from comptoir.security import audit
from comptoir.security.models import AuditAction
from comptoir.tenancy.access import access_colleague, membership_for_user, request_membership
from comptoir.tenancy.actions import MembershipActionError
from comptoir.tenancy.models import Membership


def _is_fetch(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _conversation_url(conversation_id: int, view: InboxView) -> str:
    url = reverse("console:conversation", args=[conversation_id])
    return f"{url}?{urlencode({'view': view.value})}"


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _pickers(membership: Membership) -> dict[str, Any]:
    """What the assign selects and tag inputs offer (thread and inbox's bulk bar share them)."""
    return {
        "colleagues": load_colleagues(membership),
        "tag_suggestions": load_tag_suggestions(membership.brand_id),
    }


def _thread_context(membership: Membership, conversation: Conversation) -> dict[str, Any]:
    return {
        "conversation": conversation,
        "timeline": load_timeline(conversation),
        "colleagues": load_colleagues(membership),
        "reply_options": reply_options(conversation),
        "tags": load_tags(conversation),
    }


def _workspace(
    request: HttpRequest,
    membership: Membership,
    last_event_id: int,
    *,
    conversation: Conversation | None = None,
    customer: Customer | None = None,
) -> HttpResponse:
    if not engine.models_ready():
        # The first console page of this process loads the assistant's models, so that
        # agent assist is ready when a conversation opens (``comptoir serve`` and workers
        # start loading them at start; another server starts here).
        engine.warm_up_in_background()
    view = parse_inbox_view(request.GET.get("view"))
    context: dict[str, Any] = {
        "membership": membership,
        "last_event_id": last_event_id,
        "view": view,
        "inbox": load_inbox(membership, view),
        "saved_views": views_of(membership),
        "current_conversation_id": conversation.pk if conversation else None,
        **_pickers(membership),
    }
    if conversation is not None:
        context.update(_thread_context(membership, conversation))
        context["panel"] = load_customer_panel(conversation.customer)
    elif customer is not None:
        context["panel"] = load_customer_panel(customer)
    return render(request, "console/workspace.html", context)


@require_safe
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The inbox alone: Unassigned / Mine / All open, nothing opened yet.

    Someone signed in without a seat in any brand (a platform operator, an agent
    whose seat was withdrawn) is told why there is nothing, and what to do.
    """
    membership = membership_for_user(request.user)
    if membership is None:
        return render(request, "console/no_brand.html", status=403)
    return _workspace(request, membership, latest_event_id(membership.brand_id))


@require_safe
@login_required
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Inbox, conversation and customer panel on one page."""
    membership = request_membership(request)
    # Read before the conversation so that a change committed meanwhile is replayed.
    last_event_id = latest_event_id(membership.brand_id)
    conversation = access_conversation(membership, conversation_id)
    audit.record(AuditAction.CONVERSATION_VIEWED, request=request, target=conversation)
    return _workspace(request, membership, last_event_id, conversation=conversation)


@require_safe
@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A customer's profile and history, reachable without opening one of their conversations."""
    membership = request_membership(request)
    last_event_id = latest_event_id(membership.brand_id)
    customer = access_customer(membership, customer_id)
    if customer.merged_into_id is not None:
        # Merged into another customer: their file lives there now (customers.merging).
        return redirect("console:customer", customer.merged_into_id)
    audit.record(AuditAction.CUSTOMER_VIEWED, request=request, target=customer)
    return _workspace(request, membership, last_event_id, customer=customer)


@require_safe
@login_required
def inbox_fragment(request: HttpRequest) -> HttpResponse:
    """The inbox column (tabs, counts, list), re-fetched by console.js after any event."""
    membership = request_membership(request)
    try:
        current_conversation_id = int(request.GET.get("conversation", ""))
    except ValueError:
        current_conversation_id = None
    view = parse_inbox_view(request.GET.get("view"))
    context = {
        "membership": membership,
        "view": view,
        "inbox": load_inbox(membership, view),
        "saved_views": views_of(membership),
        "current_conversation_id": current_conversation_id,
        **_pickers(membership),
    }
    return _no_store(render(request, "console/_inbox.html", context))


@require_safe
@login_required
def thread_fragment(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The conversation's header (status, assignee, actions) and timeline."""
    membership = request_membership(request)
    conversation = access_conversation(membership, conversation_id)
    context = {
        "membership": membership,
        "view": parse_inbox_view(request.GET.get("view")),
        **_thread_context(membership, conversation),
        **_pickers(membership),
    }
    return _no_store(render(request, "console/_thread.html", context))


@require_safe
@login_required
def conversation_panel_fragment(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The customer panel beside an open conversation."""
    membership = request_membership(request)
    conversation = access_conversation(membership, conversation_id)
    context = {
        "view": parse_inbox_view(request.GET.get("view")),
        "panel": load_customer_panel(conversation.customer),
        "current_conversation_id": conversation.pk,
    }
    return _no_store(render(request, "console/_panel.html", context))


@require_safe
@login_required
def customer_panel_fragment(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The customer panel of the customer page."""
    membership = request_membership(request)
    customer = access_customer(membership, customer_id)
    context = {
        "view": parse_inbox_view(request.GET.get("view")),
        "panel": load_customer_panel(customer),
        "current_conversation_id": None,
    }
    return _no_store(render(request, "console/_panel.html", context))


@require_safe
@login_required
def attachment_file(request: HttpRequest, attachment_id: int) -> FileResponse:
    """Stream an attachment of the agent's brand (see ``attachment_files`` for how)."""
    membership = request_membership(request)
    return attachment_response(access_attachment(membership, attachment_id))


@require_POST
@login_required
def availability(request: HttpRequest) -> HttpResponse:
    """The agent says they are available or away; always their own status (the session's)."""
    membership = request_membership(request)
    error = None
    try:
        set_availability(membership, request.POST.get("availability", ""), actor=membership)
    except MembershipActionError as exc:
        error = exc.reason
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("console:inbox")
    return _answered(request, error, target)


def _action_done(
    request: HttpRequest, conversation: Conversation, error: str | None = None
) -> HttpResponse:
    """The answer to an action on a conversation: back to it, without JavaScript."""
    view = parse_inbox_view(request.POST.get("view"))
    return _answered(request, error, _conversation_url(conversation.pk, view))


def _answered(request: HttpRequest, error: str | None, back_to: str) -> HttpResponse:
    """204/400 for console.js, or a redirect to ``back_to`` with a flash message."""
    if _is_fetch(request):
        if error:
            return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
        return HttpResponse(status=204)
    if error:
        messages.error(request, error)
    return redirect(back_to)


@require_POST
@login_required
def compose(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Send a reply to the customer, or add an internal note, from the reply box."""
    membership = request_membership(request)
    conversation = access_conversation(membership, conversation_id)
    form = ComposeForm(request.POST)
    if not form.is_valid():
        error = next(iter(form.errors.values()))[0]
        return _action_done(request, conversation, error)
    text = form.cleaned_data["text"]
    try:
        if form.is_note:
            add_note(membership, conversation, text)
        else:
            send_reply(membership, conversation, text, channel=form.chosen_channel)
    except ChannelUnreachableError:
        return _action_done(
            request,
            conversation,
            gettext("This customer cannot be reached on that channel: pick another one."),
        )
    except ConversationStateError:
        if form.is_note:
            return _action_done(request, conversation, gettext("The note could not be added."))
        return _action_done(
            request,
            conversation,
            gettext("This conversation is resolved: reopen it before replying."),
        )
    return _action_done(request, conversation)


@require_POST
@login_required
def resend(request: HttpRequest, message_id: int) -> HttpResponse:
    """A reply that was not delivered, sent again on the channel the agent picks."""
    membership = request_membership(request)
    message = get_object_or_404(Message, pk=message_id, brand_id=membership.brand_id)
    conversation = access_conversation(membership, message.conversation_id)
    message.conversation = conversation
    form = ResendForm(request.POST)
    if message.is_internal_note or message.direction != Direction.OUTBOUND:
        return _action_done(request, conversation, gettext("Only a reply can be sent again."))
    if not form.is_valid():
        return _action_done(request, conversation, gettext("Pick a channel."))
    try:
        resend_reply(membership, message, form.cleaned_data["channel"])
    except ChannelUnreachableError:
        return _action_done(
            request,
            conversation,
            gettext("This customer cannot be reached on that channel: pick another one."),
        )
    except ConversationStateError:
        return _action_done(
            request,
            conversation,
            gettext("This conversation is resolved: reopen it before replying."),
        )
    return _action_done(request, conversation)


@require_POST
@login_required
def assign(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Assign to a colleague of the same brand (404 for anyone else), or unassign."""
    membership = request_membership(request)
    conversation = access_conversation(membership, conversation_id)
    assignee_id = request.POST.get("assignee", "").strip()
    assignee = access_colleague(membership, assignee_id) if assignee_id else None
    try:
        assign_conversation(membership, conversation, assignee)
    except ConversationStateError:
        return _action_done(
            request, conversation, gettext("This agent cannot be given conversations.")
        )
    return _action_done(request, conversation)


@require_POST
@login_required
def tag_add(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Put a tag on the conversation (a new name becomes one of the brand's tags)."""
    membership = request_membership(request)
    conversation = access_conversation(membership, conversation_id)
    try:
        tag_conversation(membership, conversation, request.POST.get("name", ""))
    except TagError as exc:
        return _action_done(request, conversation, _tag_refusal(exc))
    return _action_done(request, conversation)


def _tag_refusal(error: TagError) -> str:
    if "characters" in str(error):
        return gettext("A tag name has at most 50 characters.")
    return gettext("Type the tag's name.")


@require_POST
@login_required
def tag_remove(request: HttpRequest, conversation_id: int, tag_id: int) -> HttpResponse:
    """Take a tag off the conversation (another brand's tag is a 404, as its conversation)."""
    membership = request_membership(request)
    conversation = access_conversation(membership, conversation_id)
    untag_conversation(membership, conversation, access_tag(membership, tag_id))
    return _action_done(request, conversation)


def _object_id(value: str) -> int:
    """A row id from a form field; anything else is a 404, as an unknown id."""
    if not value.isdigit() or not 0 < int(value) < 2**63:
        raise Http404("No such conversation.")
    return int(value)


# At most this many conversations in one bulk action: one page of the inbox.
BULK_LIMIT = 100


@require_POST
@login_required
def bulk(request: HttpRequest) -> HttpResponse:
    """Assign, tag or resolve the conversations ticked in the inbox, each through its action.

    Every id is fetched with ``access_conversation`` first: one of another brand
    makes the whole request a 404, before anything changes. A conversation the
    action does not apply to (already resolved…) is counted and left alone.
    """
    membership = request_membership(request)
    view = parse_inbox_view(request.POST.get("view"))
    back_to = f"{reverse('console:inbox')}?{urlencode({'view': view.value})}"
    ids = request.POST.getlist("conversation")[:BULK_LIMIT]
    if not ids:
        return _answered(request, gettext("Tick at least one conversation."), back_to)
    conversations = [access_conversation(membership, _object_id(value)) for value in ids]
    action = request.POST.get("action", "")
    if action == "assign":
        assignee_id = request.POST.get("assignee", "").strip()
        assignee = access_colleague(membership, assignee_id) if assignee_id else None

        def apply(conversation: Conversation) -> None:
            assign_conversation(membership, conversation, assignee)

    elif action == "tag":
        name = request.POST.get("tag", "")

        def apply(conversation: Conversation) -> None:
            tag_conversation(membership, conversation, name)

    elif action == "resolve":

        def apply(conversation: Conversation) -> None:
            resolve_conversation(membership, conversation)

    else:
        return _answered(request, gettext("Choose what to do with them."), back_to)
    refused = 0
    for conversation in conversations:
        try:
            apply(conversation)
        except TagError as exc:
            return _answered(request, _tag_refusal(exc), back_to)
        except ConversationStateError:
            refused += 1
    error = None
    if refused:
        error = ngettext(
            "%(count)s conversation was left as it was.",
            "%(count)s conversations were left as they were.",
            refused,
        ) % {"count": refused}
    return _answered(request, error, back_to)


@require_POST
@login_required
def resolve(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _change_status(
        request,
        conversation_id,
        resolve_conversation,
        gettext("This conversation is already resolved."),
    )


@require_POST
@login_required
def reopen(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _change_status(
        request, conversation_id, reopen_conversation, gettext("This conversation is already open.")
    )


@require_POST
@login_required
def pending(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Waiting on the customer: SLA clocks pause until the customer writes."""
    return _change_status(
        request, conversation_id, mark_pending, gettext("Only an open conversation can wait.")
    )


def _change_status(
    request: HttpRequest,
    conversation_id: int,
    action: Callable[[Membership, Conversation], Conversation],
    refusal: str,
) -> HttpResponse:
    membership = request_membership(request)
    conversation = access_conversation(membership, conversation_id)
    try:
        action(membership, conversation)
    except ConversationStateError:
        return _action_done(request, conversation, refusal)
    return _action_done(request, conversation)


class PasswordSetView(SuccessMessageMixin, auth_views.PasswordResetConfirmView):
    """An invited agent chooses their password from the mailed link, then signs in.

    Django's password-reset token (``tenancy.tasks.set_password_path``): it stops
    working once the password is set.
    """

    template_name = "console/password_set.html"
    success_url = reverse_lazy("console:login")
    success_message = gettext_lazy("Your password is set. Sign in with it.")
