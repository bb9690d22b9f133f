"""``/console/settings/``: a brand's administrators run the brand without Django admin.

The brand (name, languages, region, time zone, the widget's colour and words),
agents (invite by e-mail, role, deactivate), teams and their members, channels
(mailboxes, WhatsApp and Messenger accounts, phone lines, their webhook
secrets) and API tokens. Administrators only (403 for agents and supervisors);
another brand's objects are 404 (the ``access_*`` fetches). Forms post, then
redirect; bad input is a 400 with the form's reasons. A secret Comptoir
generates (a webhook secret, a verify token, an API key) is shown once, on
the page the POST that made it redirects to (kept in the server-side session
for that one display), and never again.
"""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from comptoir.administration.forms import (
    ApiTokenForm,
    BrandForm,
    InviteForm,
    MailboxForm,
    MessagingAccountForm,
    PhoneLineForm,
    RoleForm,
    TeamForm,
)
from comptoir.tenancy import actions
from comptoir.tenancy.access import (
    access_agent_seat,
    access_api_token,
    access_team,
    request_membership,
)
from comptoir.tenancy.actions import MembershipActionError
from comptoir.tenancy.models import ApiToken, Membership, Role, Team
from comptoir.touchpoints.email.access import access_mailbox
from comptoir.touchpoints.email.actions import save_mailbox
from comptoir.touchpoints.email.models import Mailbox
from comptoir.touchpoints.messaging.access import access_messaging_account
from comptoir.touchpoints.messaging.actions import rotate_verify_token, save_messaging_account
from comptoir.touchpoints.messaging.models import MessagingAccount
from comptoir.touchpoints.phone.access import access_phone_line
from comptoir.touchpoints.phone.actions import rotate_webhook_secret, save_phone_line
from comptoir.touchpoints.phone.models import PhoneLine


def _admin(request: HttpRequest) -> Membership:
    return request_membership(request, require_role=Role.ADMIN)


def _page(request, membership, template: str, section: str, status: int = 200, **context):
    return render(
        request,
        f"administration/{template}",
        {"membership": membership, "section": section, **context},
        status=status,
    )


SHOWN_ONCE = "settings_shown_once"


def _show_once(request: HttpRequest, kind: str, object_id: int, value: str) -> None:
    """Keep ``value`` for the next page about this object only (then it is gone)."""
    request.session[SHOWN_ONCE] = {"kind": kind, "id": object_id, "value": value}


def _pop_shown_once(request: HttpRequest, kind: str, object_id: int) -> str:
    kept = request.session.get(SHOWN_ONCE)
    if not kept or kept.get("kind") != kind or kept.get("id") != object_id:
        return ""
    del request.session[SHOWN_ONCE]
    return kept["value"]


def _base_url(request: HttpRequest) -> str:
    """This server as the agent's browser reaches it: what an invitation link starts with."""
    return request.build_absolute_uri("/")


# --- The brand -----------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def brand(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    # A copy: validating writes the posted values into the form's instance.
    instance = copy.copy(membership.brand)
    form = BrandForm(request.POST if request.method == "POST" else None, instance=instance)
    if request.method == "POST":
        if form.is_valid():
            actions.update_brand(membership, form.values())
            messages.success(request, gettext("Brand settings saved."))
            return redirect("administration:brand")
        return _page(request, membership, "brand.html", "brand", status=400, form=form)
    return _page(request, membership, "brand.html", "brand", form=form)


# --- Agents --------------------------------------------------------------------------------


def _agents_page(request, membership, invite_form=None, status=200):
    agents = (
        Membership.objects.filter(brand_id=membership.brand_id)
        .select_related("user")
        .order_by("-is_active", "user__first_name", "user__last_name", "pk")
    )
    return _page(
        request,
        membership,
        "agents.html",
        "agents",
        status=status,
        agents=agents,
        invite_form=invite_form or InviteForm(),
        roles=Role.choices,
    )


@require_safe
@login_required
def agents(request: HttpRequest) -> HttpResponse:
    return _agents_page(request, _admin(request))


def _refused(request, membership, error: MembershipActionError) -> HttpResponse:
    status = 403 if error.forbidden else 400
    messages.error(request, error.reason)
    return _agents_page(request, membership, status=status)


@require_POST
@login_required
def agent_invite(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _agents_page(request, membership, invite_form=form, status=400)
    data = form.cleaned_data
    try:
        member = actions.invite_agent(
            membership,
            data["email"],
            data["first_name"],
            data["last_name"],
            data["role"],
            _base_url(request),
        )
    except MembershipActionError as error:
        form.add_error("email", error.reason)
        return _agents_page(request, membership, invite_form=form, status=400)
    messages.success(
        request,
        gettext("%(email)s is invited: they received a link to choose their password.")
        % {"email": member.user.email},
    )
    return redirect("administration:agents")


@require_POST
@login_required
def agent_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _admin(request)
    member = access_agent_seat(membership, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose a role."))
        return _agents_page(request, membership, status=400)
    try:
        actions.change_role(membership, member, form.cleaned_data["role"])
    except MembershipActionError as error:
        return _refused(request, membership, error)
    messages.success(request, gettext("%(name)s's role saved.") % {"name": member.display_name})
    return redirect("administration:agents")


@require_POST
@login_required
def agent_deactivate(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _admin(request)
    member = access_agent_seat(membership, membership_id)
    try:
        actions.deactivate_membership(member, actor=membership)
    except MembershipActionError as error:
        return _refused(request, membership, error)
    messages.success(
        request,
        gettext("%(name)s can no longer sign in to the brand.") % {"name": member.display_name},
    )
    return redirect("administration:agents")


@require_POST
@login_required
def agent_reactivate(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _admin(request)
    member = access_agent_seat(membership, membership_id)
    actions.reactivate_membership(membership, member)
    messages.success(request, gettext("%(name)s is back.") % {"name": member.display_name})
    return redirect("administration:agents")


@require_POST
@login_required
def agent_resend(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _admin(request)
    member = access_agent_seat(membership, membership_id)
    if not member.user.email or member.user.has_usable_password():
        messages.error(request, gettext("This agent has already chosen a password."))
        return _agents_page(request, membership, status=400)
    actions.resend_invitation(membership, member, _base_url(request))
    messages.success(
        request, gettext("Invitation sent again to %(email)s.") % {"email": member.user.email}
    )
    return redirect("administration:agents")


# --- Teams ---------------------------------------------------------------------------------


def _teams_page(request, membership, form=None, status=200):
    teams = (
        Team.objects.filter(brand_id=membership.brand_id)
        .prefetch_related(
            Prefetch(
                "members",
                Membership.objects.select_related("user").order_by("user__first_name", "pk"),
            )
        )
        .order_by("name")
    )
    return _page(
        request,
        membership,
        "teams.html",
        "teams",
        status=status,
        teams=teams,
        form=form or TeamForm(brand_id=membership.brand_id),
    )


@require_safe
@login_required
def teams(request: HttpRequest) -> HttpResponse:
    return _teams_page(request, _admin(request))


@require_POST
@login_required
def team_create(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    form = TeamForm(request.POST, brand_id=membership.brand_id)
    if not form.is_valid():
        return _teams_page(request, membership, form=form, status=400)
    data = form.cleaned_data
    actions.save_team(membership, None, data["name"], data["members"], data["auto_assign"])
    messages.success(request, gettext("Team created."))
    return redirect("administration:teams")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    membership = _admin(request)
    team = access_team(membership, team_id, require_role=Role.ADMIN)
    if request.method == "POST":
        form = TeamForm(request.POST, brand_id=membership.brand_id, team_id=team.pk)
        if form.is_valid():
            data = form.cleaned_data
            actions.save_team(membership, team, data["name"], data["members"], data["auto_assign"])
            messages.success(request, gettext("Team saved."))
            return redirect("administration:teams")
        status = 400
    else:
        initial = {
            "name": team.name,
            "members": list(team.members.values_list("pk", flat=True)),
            "auto_assign": team.auto_assign,
        }
        form = TeamForm(initial=initial, brand_id=membership.brand_id, team_id=team.pk)
        status = 200
    return _page(request, membership, "team.html", "teams", status=status, team=team, form=form)


# --- Channels ------------------------------------------------------------------------------


@require_safe
@login_required
def channels(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    brand_id = membership.brand_id
    return _page(
        request,
        membership,
        "channels.html",
        "channels",
        mailboxes=Mailbox.objects.filter(brand_id=brand_id).order_by("address"),
        accounts=MessagingAccount.objects.filter(brand_id=brand_id).order_by("provider", "pk"),
        lines=PhoneLine.objects.filter(brand_id=brand_id).order_by("number"),
    )


def _channel_form(request, membership, form_class, instance, save, title: str, kind: str):
    """The create/edit page of one channel.

    ``save(values)`` returns the object saved and the secret it was given, if any: the
    page of the object then shows it, once.
    """
    data = request.POST if request.method == "POST" else None
    # The form works on a copy: validating writes the posted values into its instance, and
    # the action compares them with the stored ones (what changed; secrets left blank).
    form = form_class(data, instance=copy.copy(instance))
    if data is not None:
        if form.is_valid():
            saved, secret = save(form.values())
            if secret:
                _show_once(request, kind, saved.pk, secret)
                return redirect(f"administration:{kind}", saved.pk)
            messages.success(request, gettext("Channel saved."))
            return redirect("administration:channels")
        status = 400
    else:
        status = 200
    return _page(
        request,
        membership,
        "channel.html",
        "channels",
        status=status,
        form=form,
        title=title,
        instance=instance,
        kind=kind,
        secret=_pop_shown_once(request, kind, instance.pk) if instance else "",
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def mailbox_edit(request: HttpRequest, mailbox_id: int | None = None) -> HttpResponse:
    membership = _admin(request)
    mailbox = access_mailbox(membership, mailbox_id) if mailbox_id else None

    def save(values):
        return save_mailbox(membership, mailbox, values), None

    title = mailbox.address if mailbox else gettext("New mailbox")
    return _channel_form(request, membership, MailboxForm, mailbox, save, title, "mailbox")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def messaging_edit(request: HttpRequest, account_id: int | None = None) -> HttpResponse:
    membership = _admin(request)
    account = access_messaging_account(membership, account_id) if account_id else None

    def save(values):
        return save_messaging_account(membership, account, values)

    title = str(account) if account else gettext("New WhatsApp or Messenger account")
    return _channel_form(
        request, membership, MessagingAccountForm, account, save, title, "messaging"
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def phone_edit(request: HttpRequest, line_id: int | None = None) -> HttpResponse:
    membership = _admin(request)
    line = access_phone_line(membership, line_id) if line_id else None

    def save(values):
        return save_phone_line(membership, line, values)

    title = line.number if line else gettext("New phone line")
    return _channel_form(request, membership, PhoneLineForm, line, save, title, "phone")


@require_POST
@login_required
def messaging_rotate(request: HttpRequest, account_id: int) -> HttpResponse:
    membership = _admin(request)
    account = access_messaging_account(membership, account_id)
    _show_once(request, "messaging", account.pk, rotate_verify_token(membership, account))
    return redirect("administration:messaging", account.pk)


@require_POST
@login_required
def phone_rotate(request: HttpRequest, line_id: int) -> HttpResponse:
    membership = _admin(request)
    line = access_phone_line(membership, line_id)
    _show_once(request, "phone", line.pk, rotate_webhook_secret(membership, line))
    return redirect("administration:phone", line.pk)


# --- API tokens ----------------------------------------------------------------------------


def _tokens_page(request, membership, form=None, status=200):
    tokens = (
        ApiToken.objects.filter(membership__brand_id=membership.brand_id)
        .select_related("membership__user")
        .order_by("revoked_at", "-created_at")
    )
    return _page(
        request,
        membership,
        "tokens.html",
        "tokens",
        status=status,
        tokens=tokens,
        form=form or ApiTokenForm(),
        key=_pop_shown_once(request, "token", membership.pk),
    )


@require_safe
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    return _tokens_page(request, _admin(request))


@require_POST
@login_required
def token_create(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _tokens_page(request, membership, form=form, status=400)
    _, key = actions.create_api_token(
        membership,
        form.cleaned_data["name"],
        scope=form.cleaned_data["scope"],
        expires_at=form.expires_at(),
    )
    # Shown on the next page only: only its hash is stored.
    _show_once(request, "token", membership.pk, key)
    return redirect("administration:tokens")


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    membership = _admin(request)
    token = access_api_token(membership, token_id)
    actions.revoke_api_token(membership, token)
    messages.success(request, gettext("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("administration:tokens")
