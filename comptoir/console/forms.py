"""Parsing of what the console's forms post; state changes happen in the actions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import Channel


class ComposeForm(forms.Form):
    """The reply box: a text and whether it goes to the customer or stays internal."""

    REPLY = "reply"
    NOTE = "note"

    text = forms.CharField(
        strip=False,
        max_length=20_000,
        error_messages={"required": _("Write a message first.")},
    )
    mode = forms.ChoiceField(
        choices=[(REPLY, _("Reply")), (NOTE, _("Internal note"))], required=False
    )
    # The channel the agent picked (empty: the default); the action checks it can reach them.
    channel = forms.ChoiceField(choices=Channel.choices, required=False)
    # The default the page offered: a channel left at it is no choice (see ``chosen_channel``).
    channel_default = forms.CharField(required=False, max_length=16)

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError(_("Write a message first."))
        return text

    @property
    def chosen_channel(self) -> str | None:
        """The channel the agent picked, or None when they left the page's default.

        None lets the reply follow the customer: had they written from another channel
        since the page was loaded, the reply goes there, as without the selector.
        """
        channel = self.cleaned_data.get("channel") or None
        if channel is not None and channel == self.cleaned_data.get("channel_default"):
            return None
        return channel

    @property
    def is_note(self) -> bool:
        return self.cleaned_data.get("mode") == self.NOTE


class ResendForm(forms.Form):
    """Send a reply that was not delivered again, on another channel."""

    channel = forms.ChoiceField(choices=Channel.choices)
