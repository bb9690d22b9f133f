"""The one place that decides which brand and role a request acts for.

An agent works for one brand at a time: their first active membership. (A
brand switcher for people who work for several brands is not built yet.)

Every object a view, endpoint or consumer names by id is fetched through the
``access_*`` function of the app that owns it (``conversations.access``,
``customers.access``, ``assistant.access``, the touchpoints' ``access``
modules, and the colleagues and teams below). They all answer the same way:

- ``PermissionDenied`` (403) when the agent's role is below the one required,
  checked first, so the answer is the same whether the id exists or not;
- ``Http404`` when the object does not exist *in the agent's brand*, so
  another brand's objects are indistinguishable from missing ones.

The console turns ``PermissionDenied`` into Django's 403 page, the API into a
JSON ``{"detail": reason}`` (``comptoir.api.urls``).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from comptoir.tenancy.models import ApiToken, Membership, Role, Team
from comptoir.url_ids import MAX_BIGINT

# What the API tells an integrator whose token's role is too low.
ROLE_REFUSALS = {
    Role.AGENT: "Only the brand's agents may do this.",
    Role.SUPERVISOR: "Only the brand's supervisors and administrators may do this.",
    Role.ADMIN: "Only the brand's administrators may do this.",
}


def check_role(membership: Membership, role: str, reason: str = "") -> Membership:
    """``membership`` if its role is at least ``role``; PermissionDenied (403) otherwise.

    ``reason`` replaces the generic refusal where the API has always named
    what the role is needed for.
    """
    if not membership.has_role(role):
        raise PermissionDenied(reason or ROLE_REFUSALS[role])
    return membership


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


def request_membership(request: HttpRequest, *, require_role: str = Role.AGENT) -> Membership:
    """The membership a console request acts for; 404 when the user has none, 403 below the role."""
    membership = membership_for_user(request.user)
    if membership is None:
        raise Http404("No brand for this user.")
    return check_role(membership, require_role)


def row_id(value: int | str) -> int:
    """``value`` as a row id (a form's text included); 404 when it cannot name a row.

    A number beyond a bigint would reach the database and fail there (a 500 on
    PostgreSQL) instead of being the unknown id it is.
    """
    try:
        number = int(value)
    except (ValueError, TypeError):
        raise Http404("Not an id.") from None
    if not 1 <= number <= MAX_BIGINT:
        raise Http404("Not an id.")
    return number


def access_colleague(
    membership: Membership, colleague_id: int | str, *, require_role: str = Role.AGENT
) -> Membership:
    """An active agent of the same brand (to assign work to, or to name as an advisor)."""
    check_role(membership, require_role)
    try:
        return Membership.objects.select_related("user").get(
            pk=row_id(colleague_id), brand_id=membership.brand_id, is_active=True
        )
    except Membership.DoesNotExist:
        raise Http404("No such agent.") from None


def access_team(
    membership: Membership, team_id: int | str, *, require_role: str = Role.AGENT
) -> Team:
    check_role(membership, require_role)
    try:
        return Team.objects.get(pk=row_id(team_id), brand_id=membership.brand_id)
    except Team.DoesNotExist:
        raise Http404("No such team.") from None


def access_agent_seat(
    membership: Membership, member_id: int | str, *, require_role: str = Role.ADMIN
) -> Membership:
    """Any seat of the brand, deactivated ones included (to manage it, not to give it work)."""
    check_role(membership, require_role)
    try:
        return Membership.objects.select_related("user").get(
            pk=row_id(member_id), brand_id=membership.brand_id
        )
    except Membership.DoesNotExist:
        raise Http404("No such agent.") from None


def access_api_token(
    membership: Membership, token_id: int | str, *, require_role: str = Role.ADMIN
) -> ApiToken:
    """An API token of any agent of the brand (administrators see and revoke them all)."""
    check_role(membership, require_role)
    try:
        return ApiToken.objects.get(pk=row_id(token_id), membership__brand_id=membership.brand_id)
    except ApiToken.DoesNotExist:
        raise Http404("No such API token.") from None
