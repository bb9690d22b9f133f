"""The one place that decides which brand and role a request acts for.

An agent works for one brand at a time: their first active membership. (A
brand switcher for people who work for several brands is not built yet.)
"""

from django.http import Http404, HttpRequest

from comptoir.tenancy.models import Membership


def membership_for_user(user) -> Membership | None:
    """The active membership ``user`` acts through, or None (anonymous, or no brand)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.select_related("brand", "user")
        .filter(user=user, is_active=True)
        .order_by("id")
        .first()
    )


def request_membership(request: HttpRequest) -> Membership:
    """The membership a console request acts for; 404 when the user has none."""
    membership = membership_for_user(request.user)
    if membership is None:
        raise Http404("No brand for this user.")
    return membership
