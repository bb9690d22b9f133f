"""The console's search page and the agent's saved views.

Thin: the query string is validated by ``SearchParams`` (a 400 page that says
what is wrong), the results come from ``query.search_conversations``, saved
views are changed through ``actions``.
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe
from pydantic import ValidationError

from comptoir.conversations.models import Channel, Priority, Status, Tag
from comptoir.search.access import access_saved_view
from comptoir.search.actions import SavedViewError, delete_view, save_view, view_url, views_of
from comptoir.search.params import Page, SearchParams, Sort
from comptoir.search.query import MAX_OFFSET, search_conversations
from comptoir.tenancy.access import request_membership
from comptoir.tenancy.models import Membership, Team

PAGE_SIZE = 50
# The tag names the filter offers as the agent types (alphabetically).
TAG_SUGGESTIONS = 200
PARAMETERS = tuple(SearchParams.model_fields)


def _parse(data) -> tuple[SearchParams | None, list[str]]:
    """The search the query string or form asks for, or the reasons it is not valid."""
    try:
        return SearchParams.model_validate({name: data.get(name, "") for name in PARAMETERS}), []
    except ValidationError as exc:
        return None, [_reason(error) for error in exc.errors()]


def _reason(error: dict[str, Any]) -> str:
    field = ".".join(str(part) for part in error.get("loc", ())) or gettext("search")
    return gettext("%(field)s: %(reason)s") % {"field": field, "reason": error.get("msg", "")}


def _offset(value: str | None) -> int:
    try:
        return min(max(int(value or 0), 0), MAX_OFFSET)
    except ValueError:
        return 0


def _filter_choices(membership: Membership) -> dict[str, Any]:
    return {
        "statuses": Status.choices,
        "channels": Channel.choices,
        "priorities": Priority.choices,
        "sorts": [
            (Sort.NEWEST.value, gettext("Newest activity")),
            (Sort.OLDEST.value, gettext("Oldest first")),
            (Sort.WAITING.value, gettext("Longest waiting")),
        ],
        "teams": list(Team.objects.filter(brand_id=membership.brand_id).order_by("name")),
        "tag_names": list(
            Tag.objects.filter(brand_id=membership.brand_id)
            .order_by("key")
            .values_list("name", flat=True)[:TAG_SUGGESTIONS]
        ),
        "colleagues": list(
            Membership.objects.filter(brand_id=membership.brand_id, is_active=True)
            .select_related("user")
            .order_by("user__first_name", "user__last_name", "user__username")
        ),
    }


@require_safe
@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Results of a search, a status view (pending, resolved) or a saved view, as an inbox list."""
    membership = request_membership(request)
    params, errors = _parse(request.GET)
    context: dict[str, Any] = {
        "membership": membership,
        "errors": errors,
        "params": params,
        "raw": {name: request.GET.get(name, "") for name in PARAMETERS},
        "saved_views": views_of(membership),
        "current_view_id": request.GET.get("view", ""),
        **_filter_choices(membership),
    }
    if params is None:
        return render(request, "search/search.html", context, status=400)
    page = Page(offset=_offset(request.GET.get("offset")), limit=PAGE_SIZE)
    results = search_conversations(membership, params.text, params.filters(), params.sort, page)
    query = params.as_query()
    context.update(
        results=results,
        query_string=urlencode(query),
        next_url=_page_url(query, results.next_offset),
        previous_url=_page_url(query, results.previous_offset),
    )
    return render(request, "search/search.html", context)


def _page_url(query: dict[str, str], offset: int | None) -> str:
    if offset is None:
        return ""
    return f"{reverse('search:console')}?{urlencode({**query, 'offset': offset})}"


@require_POST
@login_required
def view_create(request: HttpRequest) -> HttpResponse:
    """Save the search shown under a name, for this agent only."""
    membership = request_membership(request)
    params, errors = _parse(request.POST)
    if params is None:
        messages.error(request, gettext("This search is not valid: %s") % "; ".join(errors))
        return redirect("console:inbox")
    try:
        view = save_view(membership, request.POST.get("name", ""), params)
    except SavedViewError as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('search:console')}?{urlencode(params.as_query())}")
    messages.success(request, gettext("View “%(name)s” saved.") % {"name": view.name})
    return redirect(view_url(view))


@require_POST
@login_required
def view_delete(request: HttpRequest, saved_view_id: int) -> HttpResponse:
    """Delete one of the agent's views (another agent's is a 404)."""
    membership = request_membership(request)
    view = access_saved_view(membership, saved_view_id)
    name = view.name
    delete_view(view)
    messages.success(request, gettext("View “%(name)s” deleted.") % {"name": name})
    return redirect("console:inbox")
