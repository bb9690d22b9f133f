"""``/console/routing/``: a brand's administrators set its routing rules and agents' capacities.

Administrators only (403 for agents and supervisors); another brand's agent is
404 (``access_colleague``). Forms post, then redirect; bad input is a 400 with
the form's reasons.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from comptoir.routing import configure
from comptoir.routing.access import access_skill_requirement
from comptoir.routing.forms import (
    AgentRoutingForm,
    OverflowForm,
    RoutingSettingsForm,
    SkillForm,
    SkillRequirementForm,
)
from comptoir.routing.models import AgentProfile, AgentSkill, Skill, SkillRequirement, TeamRouting
from comptoir.routing.router import loads_of
from comptoir.routing.rules import routing_settings
from comptoir.tenancy.access import access_colleague, request_membership
from comptoir.tenancy.models import Membership, Role, Team


def _teams(membership: Membership) -> list[Team]:
    return list(Team.objects.filter(brand_id=membership.brand_id).order_by("name", "pk"))


def _overflow_form(membership: Membership, data=None) -> OverflowForm:
    teams = _teams(membership)
    current = dict(
        TeamRouting.objects.filter(team__in=teams).values_list("team_id", "overflow_team_id")
    )
    return OverflowForm(data, teams=teams, current=current)


def _overview(
    request: HttpRequest, membership: Membership, status: int = 200, **forms
) -> HttpResponse:
    """The page with its four forms; ``forms`` replaces the blank ones (bound, with errors)."""
    forms = {
        "form": RoutingSettingsForm(instance=routing_settings(membership.brand_id)),
        "skill_form": SkillForm(),
        "requirement_form": SkillRequirementForm(brand_id=membership.brand_id),
        "overflow_form": _overflow_form(membership),
    } | forms
    agents = list(
        Membership.objects.filter(brand=membership.brand, is_active=True)
        .select_related("user", "routing_profile")
        .order_by("user__first_name", "user__last_name", "pk")
    )
    loads = loads_of(membership.brand_id, [agent.pk for agent in agents])
    for agent in agents:
        agent.loads = dict(loads.get(agent.pk, {}))
    return render(
        request,
        "routing/console/overview.html",
        {
            "membership": membership,
            "agents": agents,
            "skills": Skill.objects.filter(brand=membership.brand).order_by("name"),
            "requirements": SkillRequirement.objects.filter(brand=membership.brand)
            .select_related("skill", "intent")
            .order_by("skill__name", "pk"),
            **forms,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request, require_role=Role.ADMIN)
    rules = routing_settings(membership.brand_id)
    if request.method == "POST":
        form = RoutingSettingsForm(request.POST, instance=rules)
        if not form.is_valid():
            return _overview(request, membership, status=400, form=form)
        configure.save_routing_settings(form)
        messages.success(request, gettext("Routing settings saved."))
        return redirect("routing:console")
    return _overview(request, membership)


@require_POST
@login_required
def skill_add(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request, require_role=Role.ADMIN)
    form = SkillForm(request.POST)
    if not form.is_valid():
        return _overview(request, membership, status=400, skill_form=form)
    configure.add_skill(membership.brand_id, form.cleaned_data["name"])
    messages.success(request, gettext("Skill added."))
    return redirect("routing:console")


@require_POST
@login_required
def requirement_add(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request, require_role=Role.ADMIN)
    form = SkillRequirementForm(request.POST, brand_id=membership.brand_id)
    if not form.is_valid():
        return _overview(request, membership, status=400, requirement_form=form)
    configure.add_skill_requirement(form)
    messages.success(request, gettext("Skill requirement added."))
    return redirect("routing:console")


@require_POST
@login_required
def requirement_delete(request: HttpRequest, requirement_id: int) -> HttpResponse:
    membership = request_membership(request, require_role=Role.ADMIN)
    requirement = access_skill_requirement(membership, requirement_id, require_role=Role.ADMIN)
    configure.delete_skill_requirement(requirement)
    messages.success(request, gettext("Skill requirement removed."))
    return redirect("routing:console")


@require_POST
@login_required
def overflow(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request, require_role=Role.ADMIN)
    form = _overflow_form(membership, request.POST)
    if not form.is_valid():
        return _overview(request, membership, status=400, overflow_form=form)
    configure.save_overflow_teams(form)
    messages.success(request, gettext("Overflow teams saved."))
    return redirect("routing:console")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def agent_edit(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = request_membership(request, require_role=Role.ADMIN)
    agent = access_colleague(membership, membership_id, require_role=Role.ADMIN)
    profile = AgentProfile.objects.filter(membership=agent).first() or AgentProfile(
        membership=agent, brand_id=agent.brand_id
    )
    skills = list(Skill.objects.filter(brand=membership.brand).order_by("name"))
    levels = dict(AgentSkill.objects.filter(membership=agent).values_list("skill_id", "level"))
    data = request.POST if request.method == "POST" else None
    form = AgentRoutingForm(data, instance=profile, skills=skills, levels=levels)
    if data is not None:
        if form.is_valid():
            configure.save_agent_routing(agent, form)
            messages.success(request, gettext("Agent's routing saved."))
            return redirect("routing:console")
        status = 400
    else:
        status = 200
    return render(
        request,
        "routing/console/agent.html",
        {"membership": membership, "agent": agent, "form": form},
        status=status,
    )
