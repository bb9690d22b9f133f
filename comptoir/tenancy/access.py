"""The one place that decides which brand and role a request acts for."""

from django.http import Http404, HttpRequest

from comptoir.tenancy.models import Membership

SESSION_BRAND_KEY = "comptoir_brand_id"


def membership_for_user(user, brand_id: int | None = None) -> Membership | None:
    """The active membership of ``user``, for ``brand_id`` when given, else the first one."""
    if not getattr(user, "is_authenticated", False):
        return None
    memberships = Membership.objects.select_related("brand", "user").filter(
        user=user, is_active=True
    )
    if brand_id is not None:
        chosen = memberships.filter(brand_id=brand_id).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("id").first()


def request_membership(request: HttpRequest) -> Membership:
    """The membership a console request acts for; 404 when the user has none."""
    membership = membership_for_user(request.user, request.session.get(SESSION_BRAND_KEY))
    if membership is None:
        raise Http404("No brand for this user.")
    return membership
