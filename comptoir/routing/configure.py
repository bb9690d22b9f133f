"""Administrators' changes to the routing rules: the only writes of ``/console/routing/``."""

from django.db import transaction

from comptoir.routing.forms import (
    AgentRoutingForm,
    OverflowForm,
    RoutingSettingsForm,
    SkillRequirementForm,
)
from comptoir.routing.models import AgentProfile, AgentSkill, Skill, SkillRequirement, TeamRouting
from comptoir.routing.rules import forget_routing_cache
from comptoir.tenancy.models import Membership


def save_routing_settings(form: RoutingSettingsForm) -> None:
    form.save()
    # This process sees new "route new conversations on" channels at once; others within 5 s.
    transaction.on_commit(forget_routing_cache)


def save_agent_routing(agent: Membership, form: AgentRoutingForm) -> AgentProfile:
    """The agent's capacities and languages, and their skill levels (0 removes the skill)."""
    with transaction.atomic():
        profile = form.save(commit=False)
        profile.membership = agent
        profile.brand_id = agent.brand_id
        profile.save()
        for skill_id, level in form.skill_levels().items():
            if level:
                AgentSkill.objects.update_or_create(
                    membership=agent, skill_id=skill_id, defaults={"level": level}
                )
            else:
                AgentSkill.objects.filter(membership=agent, skill_id=skill_id).delete()
    return profile


def add_skill(brand_id: int, name: str) -> Skill:
    skill, _ = Skill.objects.get_or_create(brand_id=brand_id, name=name.strip())
    return skill


def add_skill_requirement(form: SkillRequirementForm) -> SkillRequirement:
    """Conversations queued from now on need the skill (those already waiting keep theirs)."""
    return form.save()


def delete_skill_requirement(requirement: SkillRequirement) -> None:
    requirement.delete()


def save_overflow_teams(form: OverflowForm) -> None:
    """Each team's overflow team; a team with none has no ``TeamRouting`` row."""
    with transaction.atomic():
        for team_id, overflow in form.overflow_teams().items():
            if overflow is None:
                TeamRouting.objects.filter(team_id=team_id).delete()
            else:
                TeamRouting.objects.update_or_create(
                    team_id=team_id, defaults={"overflow_team": overflow}
                )
