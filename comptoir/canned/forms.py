"""The canned reply form: a title, a shortcut, a text; shared with the brand or one's own."""

from django import forms
from django.utils.translation import gettext_lazy as _

from comptoir.canned.models import CannedReply
from comptoir.canned.placeholders import PLACEHOLDERS
from comptoir.tenancy.models import Membership


class CannedReplyForm(forms.ModelForm):
    shared = forms.BooleanField(
        label=_("Shared with the whole brand"),
        required=False,
        help_text=_("Otherwise only you see it."),
    )

    class Meta:
        model = CannedReply
        fields = ["title", "shortcut", "body"]
        labels = {"title": _("Title"), "shortcut": _("Shortcut"), "body": _("Text")}
        help_texts = {
            "shortcut": _("Type / then the shortcut in the reply box, e.g. /delivery."),
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, membership: Membership, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.membership = membership
        if not membership.is_supervisor:
            del self.fields["shared"]
        elif self.instance.pk:
            self.initial["shared"] = self.instance.is_shared
        self.fields["body"].help_text = _("Placeholders: %(names)s") % {
            "names": ", ".join(f"{{{{ {name} }}}}" for name in PLACEHOLDERS)
        }

    @property
    def is_shared(self) -> bool:
        return bool(self.cleaned_data.get("shared"))

    def clean_shortcut(self) -> str:
        return self.cleaned_data["shortcut"].lower()

    def clean(self) -> dict:
        data = super().clean()
        shortcut = data.get("shortcut")
        if shortcut:
            same = CannedReply.objects.filter(brand_id=self.membership.brand_id, shortcut=shortcut)
            if self.is_shared:
                same = same.filter(owner__isnull=True)
            else:
                same = same.filter(owner=self.membership)
            if self.instance.pk:
                same = same.exclude(pk=self.instance.pk)
            if same.exists():
                self.add_error("shortcut", _("This shortcut is already used."))
        return data

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
