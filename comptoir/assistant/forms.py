"""Forms of the brand administrators' assistant pages in the console.

Validation of the settings is the model's own (``AssistantSettings.clean`` →
``endpoints.validate_settings``), which a ModelForm runs before saving: the
console and the Django admin refuse the same endpoints for the same reasons.
"""

from django import forms
from django.conf import settings as django_settings
from django.utils.translation import gettext_lazy as _

from comptoir.assistant.intent_actions import BOOK_APPOINTMENT, HANDOFF_ACTION, ORDER_STATUS
from comptoir.assistant.models import AssistantSettings, Intent, KnowledgeArticle
from comptoir.assistant.scope import ANSWERED_CHANNELS
from comptoir.conversations.models import Channel
from comptoir.tenancy.models import Brand, Team

MAX_PHRASES = 500

ACTION_CHOICES = [
    ("", _("None (answer or knowledge base)")),
    (ORDER_STATUS, _("Order status (calls the brand endpoint)")),
    (HANDOFF_ACTION, _("Hand off to a person")),
    (BOOK_APPOINTMENT, _("Offer the next appointment slots and book one")),
]


class SettingsForm(forms.ModelForm):
    """The brand's switch, threshold, channels and endpoint.

    ``allow_private_addresses`` is not here on purpose: it lifts the guard
    against requests to internal networks, so only platform operators set it
    (Django admin); the model validation still reads the stored value.
    """

    answer_channels = forms.MultipleChoiceField(
        label=_("Channels answered"),
        choices=[(c.value, c.label) for c in Channel if c in ANSWERED_CHANNELS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("On other channels the assistant only classifies messages."),
    )

    action_base_url = forms.URLField(
        label=_("Action endpoint base URL"),
        max_length=200,
        required=False,
        assume_scheme="https",
        help_text=_("The brand's own API, e.g. https://shop.example.com/api (http or https)."),
    )

    class Meta:
        model = AssistantSettings
        fields = [
            "enabled",
            "confidence_threshold",
            "answer_channels",
            "action_base_url",
            "timeout_seconds",
        ]
        widgets = {
            "confidence_threshold": forms.NumberInput(attrs={"step": "0.05", "min": 0, "max": 1}),
            "timeout_seconds": forms.NumberInput(attrs={"step": "0.5", "min": 0.5, "max": 30}),
        }

    def clean_confidence_threshold(self) -> float:
        value = self.cleaned_data["confidence_threshold"]
        if not 0 <= value <= 1:
            raise forms.ValidationError(_("Between 0 and 1."))
        return value


def _lines(text: str) -> list[str]:
    """One training phrase per non-empty line, stripped, without duplicates, in order."""
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


class IntentForm(forms.ModelForm):
    """An intent; training phrases are edited as one phrase per line."""

    training_phrases_fr = forms.CharField(
        label=_("Training phrases (French)"),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        help_text=_("One phrase per line."),
    )
    training_phrases_en = forms.CharField(
        label=_("Training phrases (English)"),
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        help_text=_("One phrase per line."),
    )
    action = forms.ChoiceField(label=_("Action"), choices=ACTION_CHOICES, required=False)

    class Meta:
        model = Intent
        fields = [
            "name",
            "label",
            "training_phrases_fr",
            "training_phrases_en",
            "answer_fr",
            "answer_en",
            "action",
            "automatable",
            "team",
        ]
        widgets = {
            "answer_fr": forms.Textarea(attrs={"rows": 4}),
            "answer_en": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, brand: Brand, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.brand = brand
        # Only the brand's own teams can receive its handoffs.
        self.fields["team"].queryset = Team.objects.filter(brand=brand).order_by("name")
        for field in ("training_phrases_fr", "training_phrases_en"):
            self.initial[field] = "\n".join(getattr(self.instance, field) or [])

    def clean_training_phrases_fr(self) -> list[str]:
        return self._phrases("training_phrases_fr")

    def clean_training_phrases_en(self) -> list[str]:
        return self._phrases("training_phrases_en")

    def _phrases(self, field: str) -> list[str]:
        phrases = _lines(self.cleaned_data.get(field) or "")
        if len(phrases) > MAX_PHRASES:
            raise forms.ValidationError(
                _("At most %(max)d phrases per language.") % {"max": MAX_PHRASES}
            )
        return phrases

    def clean_name(self) -> str:
        # The (brand, name) constraint is not checked by the form (brand is not a field).
        name = self.cleaned_data["name"]
        taken = Intent.objects.filter(brand=self.brand, name=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("This brand already has an intent with this name."))
        return name

    def clean(self) -> dict:
        cleaned = super().clean()
        if (
            "training_phrases_fr" in cleaned
            and "training_phrases_en" in cleaned
            and not cleaned["training_phrases_fr"]
            and not cleaned["training_phrases_en"]
        ):
            raise forms.ValidationError(
                _("Give at least one training phrase, in French or in English.")
            )
        return cleaned


class ArticleForm(forms.ModelForm):
    """A knowledge-base article: Markdown, stored as typed and shown escaped."""

    language = forms.ChoiceField(label=_("Language"), choices=django_settings.LANGUAGES)

    class Meta:
        model = KnowledgeArticle
        fields = ["title", "language", "body", "published"]
        widgets = {"body": forms.Textarea(attrs={"rows": 16})}
