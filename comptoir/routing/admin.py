"""Django admin for platform operators; brand administrators use ``/console/routing/``."""

from django.contrib import admin

from comptoir.routing.models import (
    AgentProfile,
    AgentSkill,
    QueueEntry,
    RoutingSettings,
    Skill,
    SkillRequirement,
    TeamRouting,
)

admin.site.register(RoutingSettings, list_display=("brand", "advisor_mode", "advisor_wait_seconds"))
admin.site.register(AgentProfile, list_display=("membership", "languages", "last_assigned_at"))
admin.site.register(Skill, list_display=("name", "brand"))
admin.site.register(AgentSkill, list_display=("membership", "skill", "level"))
admin.site.register(
    SkillRequirement, list_display=("skill", "intent", "channel", "min_level", "optional")
)
admin.site.register(TeamRouting, list_display=("team", "overflow_team"))
admin.site.register(QueueEntry, list_display=("conversation", "team", "queued_at", "advisor"))
