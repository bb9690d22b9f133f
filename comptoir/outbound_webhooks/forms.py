"""The endpoint form, shared by the console and the API (same checks, same reasons)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from comptoir.outbound_webhooks.models import WebhookEndpoint
from comptoir.outbound_webhooks.subscriptions import SUBSCRIBABLE_KINDS
from comptoir.safe_http import EndpointError, check_url


def kind_choices() -> list[tuple[str, str]]:
    return [(name, f"{name} — {kind.description}") for name, kind in SUBSCRIBABLE_KINDS.items()]


class EndpointForm(forms.ModelForm):
    """URL (checked as a delivery would be: public addresses only), events, description, on/off.

    ``allow_private_addresses`` is not here on purpose: only the platform operator
    lifts the guard (Django admin), as for the assistant's action endpoint.
    """

    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https")
    kinds = forms.MultipleChoiceField(
        label=_("Events"),
        choices=kind_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "kinds", "is_enabled"]
        labels = {"is_enabled": _("On: deliver events to this URL")}

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_url(url, allow_private=self.instance.allow_private_addresses)
        except EndpointError as error:
            raise forms.ValidationError(
                _("This URL is refused: %(reason)s"), params={"reason": error.reason}
            ) from error
        return url
