"""Saving and deleting an agent's views.

No event is appended: a saved view is the agent's own preference, which no
listener reacts to and which the brand's other consoles must not receive.
"""

from urllib.parse import urlencode

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext

from comptoir.search.models import SavedView
from comptoir.search.params import SearchParams
from comptoir.tenancy.models import Membership

# The inbox lists every view of its agent: a bounded list.
MAX_VIEWS_PER_AGENT = 30


class SavedViewError(ValueError):
    """The view cannot be saved; the message is for the agent."""


def save_view(membership: Membership, name: str, params: SearchParams) -> SavedView:
    """Save the search under ``name`` (the agent's view of that name is replaced)."""
    name = " ".join(name.split())[:60]
    if not name:
        raise SavedViewError(gettext("Give the view a name."))
    query = params.as_query()
    sort = query.pop("sort", "newest")
    with transaction.atomic():
        existing = SavedView.objects.select_for_update().filter(owner=membership, name=name).first()
        if existing is not None:
            existing.filters, existing.sort = query, sort
            existing.save(update_fields=["filters", "sort"])
            return existing
        if SavedView.objects.filter(owner=membership).count() >= MAX_VIEWS_PER_AGENT:
            raise SavedViewError(
                gettext("You have %(count)s views already: delete one first.")
                % {"count": MAX_VIEWS_PER_AGENT}
            )
        return SavedView.objects.create(
            brand_id=membership.brand_id, owner=membership, name=name, filters=query, sort=sort
        )


def delete_view(view: SavedView) -> None:
    view.delete()


def view_url(view: SavedView) -> str:
    """The search page showing the view (its parameters, and which view it is)."""
    query = dict(view.filters)
    if view.sort != "newest":
        query["sort"] = view.sort
    query["view"] = str(view.pk)
    return f"{reverse('search:console')}?{urlencode(query)}"


def views_of(membership: Membership) -> list[SavedView]:
    """The agent's views, by name (one query), each with its ``url``."""
    views = list(SavedView.objects.filter(owner=membership).order_by("name", "id"))
    for view in views:
        view.url = view_url(view)
    return views
