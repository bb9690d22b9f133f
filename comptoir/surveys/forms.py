"""The administrator's survey settings form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import Channel
from comptoir.surveys.actions import SURVEYED_CHANNELS
from comptoir.surveys.models import ProactiveSettings, SurveySettings


class SurveySettingsForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label=_("Channels surveyed after a contact"),
        choices=[(c.value, c.label) for c in Channel if c.value in SURVEYED_CHANNELS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = SurveySettings
        fields = [
            "channels",
            "delay_minutes",
            "ask_effort",
            "question_fr",
            "question_en",
            "quiet_days",
            "after_auto_close",
            "reminder_hours",
            "link_days",
            "fcr_days",
        ]
        labels = {
            "delay_minutes": _("Delay (minutes)"),
            "ask_effort": _("Ask about effort"),
            "question_fr": _("Question in French (empty: the default one)"),
            "question_en": _("Question in English (empty: the default one)"),
            "quiet_days": _("Quiet period (days)"),
            "after_auto_close": _("After automatic closing"),
            "reminder_hours": _("Reminder after (hours)"),
            "link_days": _("Links valid for (days)"),
            "fcr_days": _("First-contact resolution window (days)"),
        }
        help_texts = {"fcr_days": _("A new contact of the same person within it undoes it.")}

    def clean_link_days(self) -> int:
        value = self.cleaned_data["link_days"]
        if not 1 <= value <= 365:
            raise forms.ValidationError(_("Between 1 and 365 days."))
        return value

    def clean_fcr_days(self) -> int:
        value = self.cleaned_data["fcr_days"]
        if not 1 <= value <= 90:
            raise forms.ValidationError(_("Between 1 and 90 days."))
        return value


class ProactiveSettingsForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label=_("Channels Comptoir checks in on"),
        choices=[(c.value, c.label) for c in Channel if c.value != Channel.PHONE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ProactiveSettings
        fields = ["channels", "check_in_hours", "reminder_hours", "close_hours"]
        labels = {
            "check_in_hours": _("Check in when the customer waits on us for (hours)"),
            "reminder_hours": _("Remind a customer we wait on after (hours)"),
            "close_hours": _("Close with a notice after the reminder (hours)"),
        }
        help_texts = {
            "check_in_hours": _("0: no check-in."),
            "reminder_hours": _("0: no reminder (and no closing)."),
            "close_hours": _("0: never closed by Comptoir."),
        }
