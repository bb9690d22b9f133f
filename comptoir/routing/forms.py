"""Administrators' routing forms: the brand's rules; an agent's capacity, languages, skills."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import Channel
from comptoir.routing.models import AgentProfile, RoutingSettings, Skill, SkillRequirement
from comptoir.tenancy.models import Team

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


class RoutingSettingsForm(forms.ModelForm):
    class Meta:
        model = RoutingSettings
        fields = [
            "advisor_mode",
            "advisor_wait_seconds",
            "advisor_line_wait_seconds",
            "drop_optional_after_seconds",
            "overflow_after_seconds",
            "away_after_minutes",
            "chat_capacity",
            "email_capacity",
            "call_capacity",
            "messaging_capacity",
            "call_takes_whole_capacity",
            "vip_weight_minutes",
            "high_weight_minutes",
            "urgent_weight_minutes",
            "sla_risk_weight_minutes",
            "route_new_channels",
            "offer_callback_after_seconds",
        ]

    def clean_route_new_channels(self) -> str:
        channels = [c.strip() for c in self.cleaned_data["route_new_channels"].split(",")]
        channels = [c for c in channels if c]
        unknown = [c for c in channels if c not in Channel.values]
        if unknown:
            raise forms.ValidationError(
                _("Unknown channel: %(names)s. Known: %(known)s.")
                % {"names": ", ".join(unknown), "known": ", ".join(Channel.values)}
            )
        return ",".join(channels)


class AgentRoutingForm(forms.ModelForm):
    """Capacities (empty: the brand's), languages, and a level (0: none) per brand skill."""

    class Meta:
        model = AgentProfile
        fields = [
            "chat_capacity",
            "email_capacity",
            "call_capacity",
            "messaging_capacity",
            "languages",
        ]
        help_texts = {
            "languages": _('Codes separated by commas, e.g. "fr, en"; empty: any language.'),
        }

    def __init__(self, *args, skills: list[Skill], levels: dict[int, int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.skills = skills
        for skill in skills:
            self.fields[f"skill_{skill.pk}"] = forms.IntegerField(
                label=_("Skill: %(name)s (level 0 to 5)") % {"name": skill.name},
                min_value=0,
                max_value=5,
                initial=levels.get(skill.pk, 0),
            )

    def clean_languages(self) -> str:
        codes = [c.strip().lower() for c in self.cleaned_data["languages"].split(",")]
        codes = [c for c in codes if c]
        wrong = [c for c in codes if not LANGUAGE_CODE.match(c)]
        if wrong:
            raise forms.ValidationError(
                _("Not a language code: %(codes)s.") % {"codes": ", ".join(wrong)}
            )
        return ",".join(codes)

    def skill_levels(self) -> dict[int, int]:
        return {skill.pk: self.cleaned_data[f"skill_{skill.pk}"] for skill in self.skills}


class SkillForm(forms.Form):
    name = forms.CharField(label=_("New skill"), max_length=80)


class SkillRequirementForm(forms.ModelForm):
    """A skill an intent or a channel needs: exactly one of the two, both of this brand."""

    class Meta:
        model = SkillRequirement
        fields = ["skill", "intent", "channel", "min_level", "optional"]
        labels = {
            "skill": _("Skill"),
            "intent": _("Intent"),
            "channel": _("Channel"),
            "min_level": _("Lowest level (1 to 5)"),
            "optional": _("Optional: dropped after a wait"),
        }

    def __init__(self, *args, brand_id: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.brand_id = brand_id
        skill_field = self.fields["skill"]
        skill_field.queryset = Skill.objects.filter(brand_id=brand_id).order_by("name")
        intent_field = self.fields["intent"]
        intent_field.queryset = intent_field.queryset.filter(brand_id=brand_id).order_by("name")

    def clean(self) -> dict:
        data = super().clean()
        if bool(data.get("intent")) == bool(data.get("channel")):
            raise forms.ValidationError(_("Choose an intent or a channel (one of the two)."))
        return data

    def save(self, commit: bool = True) -> SkillRequirement:
        self.instance.brand_id = self.brand_id
        return super().save(commit)


class OverflowForm(forms.Form):
    """Per team of the brand, the team its waiting conversations overflow to (or none)."""

    def __init__(self, *args, teams: list[Team], current: dict[int, int | None], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.teams = teams
        for team in teams:
            self.fields[f"team_{team.pk}"] = forms.ModelChoiceField(
                label=_("%(team)s overflows to") % {"team": team.name},
                queryset=Team.objects.filter(pk__in=[t.pk for t in teams if t.pk != team.pk]),
                required=False,
                empty_label=_("no other team"),
                initial=current.get(team.pk),
            )

    def overflow_teams(self) -> dict[int, Team | None]:
        return {team.pk: self.cleaned_data[f"team_{team.pk}"] for team in self.teams}
