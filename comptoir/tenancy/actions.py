"""State changes of brands, agent seats, teams and API tokens (the console's Settings).

Each action runs in one transaction and appends a ``settings.changed`` event
naming what changed (never a secret's value): the brand's audit trail.
"""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from comptoir.events.actors import SYSTEM, Actor
from comptoir.events.kinds import SETTINGS_CHANGED
from comptoir.events.log import append_event
from comptoir.realtime.groups import agent_group
from comptoir.tenancy.models import ApiScope, ApiToken, Brand, Membership, Team


class MembershipActionError(ValueError):
    """A change to an agent's seat does not apply; ``reason`` is shown to the agent as is.

    ``invalid``: the input itself is wrong (HTTP 400); ``forbidden``: the agent
    may not (403).
    """

    def __init__(self, reason: str, *, forbidden: bool = False, invalid: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.forbidden = forbidden
        self.invalid = invalid


def record_settings_change(
    actor: Membership | None,
    brand_id: int,
    object_name: str,
    object_id: int,
    change: str,
    fields: Iterable[str] = (),
) -> None:
    """Append the ``settings.changed`` event of an administrator's change (in its transaction)."""
    append_event(
        brand_id,
        SETTINGS_CHANGED,
        {"object": object_name, "object_id": object_id, "change": change, "fields": list(fields)},
        actor=Actor.agent_or(actor, SYSTEM),
    )


def save_brand_object(actor: Membership, instance, values: dict, object_name: str) -> list[str]:
    """Create or change ``instance`` (a model with a brand) from ``values``, in the actor's brand.

    The one way Settings writes a channel's configuration (mailboxes, WhatsApp
    and Messenger accounts, phone lines): the names of the fields changed go
    into the ``settings.changed`` event, their values (secrets) never do.
    """
    with transaction.atomic():
        created = instance.pk is None
        changed = [
            name for name, value in values.items() if created or getattr(instance, name) != value
        ]
        for name in changed:
            setattr(instance, name, values[name])
        if created or changed:
            instance.brand_id = actor.brand_id
            instance.save()
            change = "created" if created else "updated"
            record_settings_change(actor, actor.brand_id, object_name, instance.pk, change, changed)
    return changed


# --- The brand -----------------------------------------------------------------------------


def update_brand(actor: Membership, values: dict) -> list[str]:
    """Save the brand's settings from ``values`` (field → value); the names of those changed."""
    with transaction.atomic():
        brand = Brand.objects.select_for_update().get(pk=actor.brand_id)
        changed = [name for name, value in values.items() if getattr(brand, name) != value]
        if changed:
            for name in changed:
                setattr(brand, name, values[name])
            brand.save(update_fields=changed)
            record_settings_change(actor, brand.pk, "brand", brand.pk, "updated", changed)
    return changed


# --- Agents --------------------------------------------------------------------------------


def invite_agent(
    actor: Membership, email: str, first_name: str, last_name: str, role: str, base_url: str
) -> Membership:
    """A new agent of the actor's brand, with an e-mail to choose their password.

    The account has no usable password until the agent follows the link
    (Django's password-reset token: valid ``PASSWORD_RESET_TIMEOUT``, spent once
    the password is set). An address that already has an account is refused:
    one account works for one brand (``tenancy.access``).
    """
    from comptoir.tenancy.tasks import send_invitation

    email = email.strip().lower()
    users = get_user_model().objects
    with transaction.atomic():
        existing = (
            users.filter(username__iexact=email).first()
            or users.filter(email__iexact=email).first()
        )
        if existing is not None:
            if existing.memberships.filter(brand_id=actor.brand_id).exists():
                raise MembershipActionError(
                    gettext("%(email)s is already an agent of this brand.") % {"email": email},
                    invalid=True,
                )
            raise MembershipActionError(
                gettext("%(email)s already has a Comptoir account, for another brand.")
                % {"email": email},
                invalid=True,
            )
        user = users.create_user(
            username=email, email=email, first_name=first_name, last_name=last_name
        )
        member = Membership.objects.create(user=user, brand_id=actor.brand_id, role=role)
        record_settings_change(actor, actor.brand_id, "agent", member.pk, "invited", ["role"])
        send_invitation.enqueue(membership_id=member.pk, base_url=base_url)
    return member


def resend_invitation(actor: Membership, member: Membership, base_url: str) -> None:
    """Send the set-password link again (a lost mail, an expired link)."""
    from comptoir.tenancy.tasks import send_invitation

    with transaction.atomic():
        record_settings_change(actor, actor.brand_id, "agent", member.pk, "invited")
        send_invitation.enqueue(membership_id=member.pk, base_url=base_url)


def _not_oneself(actor: Membership, member: Membership) -> None:
    # An administrator who demotes or deactivates themselves may leave the brand without one.
    if actor.pk == member.pk:
        raise MembershipActionError(
            gettext("You cannot change your own seat: ask another administrator."),
            forbidden=True,
        )


def change_role(actor: Membership, member: Membership, role: str) -> None:
    _not_oneself(actor, member)
    with transaction.atomic():
        Membership.objects.filter(pk=member.pk).update(role=role)
        member.role = role
        record_settings_change(actor, actor.brand_id, "agent", member.pk, "role_changed", ["role"])
        # Open consoles re-check what the agent may see.
        transaction.on_commit(lambda: close_agent_sockets(member.pk))


def deactivate_membership(membership: Membership, actor: Membership | None = None) -> None:
    """Withdraw an agent's access to the brand, including consoles already open.

    The agent's open WebSockets are told to close once the change is committed,
    rather than at their next access check. Their API tokens stop working with
    the seat (``api.auth`` reads only active memberships).
    """
    if actor is not None:
        _not_oneself(actor, membership)
    with transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(is_active=False)
        membership.is_active = False
        record_settings_change(
            actor, membership.brand_id, "agent", membership.pk, "deactivated", ["is_active"]
        )
        transaction.on_commit(lambda: close_agent_sockets(membership.pk))


def reactivate_membership(actor: Membership, member: Membership) -> None:
    with transaction.atomic():
        Membership.objects.filter(pk=member.pk).update(is_active=True)
        member.is_active = True
        record_settings_change(
            actor, actor.brand_id, "agent", member.pk, "reactivated", ["is_active"]
        )


def close_agent_sockets(membership_id: int) -> None:
    """Ask every console socket of this agent, in any process, to re-check its access."""
    from comptoir.realtime.publish import publish_message

    publish_message(agent_group(membership_id), {"type": "comptoir.recheck"})


# --- Teams ---------------------------------------------------------------------------------


def save_team(
    actor: Membership,
    team: Team | None,
    name: str,
    members: Iterable[Membership],
    auto_assign: bool,
) -> Team:
    """Create (``team`` None) or change a team of the actor's brand, with its members."""
    with transaction.atomic():
        created = team is None
        if created:
            team = Team(brand_id=actor.brand_id)
        changed = [
            field
            for field, value in (("name", name), ("auto_assign", auto_assign))
            if created or getattr(team, field) != value
        ]
        team.name = name
        team.auto_assign = auto_assign
        team.save()
        wanted = {member.pk for member in members}
        if created or set(team.members.values_list("pk", flat=True)) != wanted:
            team.members.set(wanted)
            changed.append("members")
        if changed:
            change = "created" if created else "updated"
            record_settings_change(actor, actor.brand_id, "team", team.pk, change, changed)
    return team


# --- API tokens ----------------------------------------------------------------------------


def create_api_token(
    actor: Membership,
    name: str,
    scope: str = ApiScope.READ,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A token acting as ``actor`` (their role, their brand) and its key, shown once.

    ``scope`` narrows what it may do (``ApiScope``: read by default, least power);
    ``expires_at`` (None: never) is when the API starts refusing it.
    """
    with transaction.atomic():
        token, key = ApiToken.issue(actor, name, scope=scope, expires_at=expires_at)
        record_settings_change(
            actor,
            actor.brand_id,
            "api_token",
            token.pk,
            "created",
            ["name", "scope", "expires_at"],
        )
    return token, key


def revoke_api_token(actor: Membership, token: ApiToken) -> None:
    """The token stops working at once (``api.auth`` refuses revoked tokens)."""
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            record_settings_change(actor, actor.brand_id, "api_token", token.pk, "revoked")


def set_retention(actor: Membership, months: int) -> Brand:
    """The brand's retention period (months without activity; 0 keeps customers forever).

    Read nightly by ``gdpr.tasks.erase_past_retention``; shown on the records of
    processing page, where administrators set it.
    """
    with transaction.atomic():
        brand = Brand.objects.select_for_update().get(pk=actor.brand_id)
        if brand.retention_months != months:
            brand.retention_months = months
            brand.save(update_fields=["retention_months"])
            record_settings_change(
                actor, brand.pk, "brand", brand.pk, "updated", ["retention_months"]
            )
    return brand
