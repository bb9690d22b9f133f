"""What the Settings pages post, parsed and checked; the actions change the state."""

import re
import zoneinfo
from datetime import datetime, timedelta

import phonenumbers
from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comptoir.tenancy.models import ApiScope, Brand, Membership, Role
from comptoir.touchpoints.email.models import Mailbox
from comptoir.touchpoints.messaging.models import MessagingAccount
from comptoir.touchpoints.phone.models import PhoneLine

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
LANGUAGE_CHOICES = [(code, name) for code, name in settings.LANGUAGES]


class BrandForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=_("Languages the brand answers in"),
        choices=LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Brand
        fields = [
            "name",
            "default_language",
            "languages",
            "default_region",
            "time_zone",
            "widget_color",
            "widget_greeting_fr",
            "widget_greeting_en",
            "widget_subtitle_fr",
            "widget_subtitle_en",
        ]
        labels = {
            "name": _("Name"),
            "default_language": _("Default language"),
            "default_region": _("Default region"),
            "time_zone": _("Time zone"),
            "widget_color": _("Widget colour"),
            "widget_greeting_fr": _("Widget greeting (French)"),
            "widget_greeting_en": _("Widget greeting (English)"),
            "widget_subtitle_fr": _("Widget header line (French)"),
            "widget_subtitle_en": _("Widget header line (English)"),
        }
        help_texts = {
            "default_region": _("Where national phone numbers are read from (FR, BE, CH…)."),
            "time_zone": _("For example Europe/Paris."),
            "widget_greeting_fr": _("Blank: Comptoir's own text."),
            "widget_greeting_en": _("Blank: Comptoir's own text."),
            "widget_subtitle_fr": _("Blank: Comptoir's own text."),
            "widget_subtitle_en": _("Blank: Comptoir's own text."),
        }
        widgets = {
            "default_language": forms.Select(choices=LANGUAGE_CHOICES),
            "widget_color": forms.TextInput(attrs={"type": "color"}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["languages"] = self.instance.language_list

    def clean_default_language(self) -> str:
        value = self.cleaned_data["default_language"]
        if value not in dict(LANGUAGE_CHOICES):
            raise forms.ValidationError(_("Choose one of the listed languages."))
        return value

    def clean_languages(self) -> str:
        return ",".join(self.cleaned_data["languages"])

    def clean_default_region(self) -> str:
        region = self.cleaned_data["default_region"].strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise forms.ValidationError(_("Not a country code (FR, BE, CH…)."))
        return region

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        if value not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("Not a time zone (for example Europe/Paris)."))
        return value

    def clean_widget_color(self) -> str:
        value = self.cleaned_data["widget_color"].strip()
        if not HEX_COLOUR.match(value):
            raise forms.ValidationError(_("A colour as #rrggbb."))
        return value.lower()

    def clean(self) -> dict:
        data = super().clean()
        languages = (data.get("languages") or "").split(",")
        if data.get("default_language") and data["default_language"] not in languages:
            self.add_error("languages", _("The default language must be one of them."))
        return data

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


ROLE_CHOICES = Role.choices


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, initial=Role.AGENT)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    auto_assign = forms.BooleanField(
        label=_("Assign automatically"),
        required=False,
        help_text=_(
            "Give a handoff to this team at once to its available member with the fewest "
            "unresolved conversations, instead of leaving it in the team's queue."
        ),
    )

    def __init__(self, *args, brand_id: int, team_id: int | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.brand_id = brand_id
        self.team_id = team_id
        self.fields["members"].queryset = (
            Membership.objects.filter(brand_id=brand_id, is_active=True)
            .select_related("user")
            .order_by("user__first_name", "user__last_name", "pk")
        )
        self.fields["members"].label_from_instance = lambda member: member.display_name

    def clean_name(self) -> str:
        from comptoir.tenancy.models import Team

        name = self.cleaned_data["name"].strip()
        clash = Team.objects.filter(brand_id=self.brand_id, name__iexact=name)
        if self.team_id:
            clash = clash.exclude(pk=self.team_id)
        if clash.exists():
            raise forms.ValidationError(_("The brand already has a team of that name."))
        return name


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("What uses it, for example “CRM sync”."),
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=ApiScope.choices,
        initial=ApiScope.READ,
        help_text=_(
            "Read: reading only. Read and write: also the changes you may make. "
            "Administration: also imports, webhooks and the assistant's settings."
        ),
    )
    # Days as text: the empty choice is "never" (ChoiceField values are strings).
    lifetime_days = forms.ChoiceField(
        label=_("Expires"),
        choices=[
            ("30", _("in 30 days")),
            ("90", _("in 90 days")),
            ("365", _("in a year")),
            ("", _("never")),
        ],
        initial="90",
        required=False,
    )

    def expires_at(self) -> datetime | None:
        """When the token stops working, from the chosen lifetime (None: never)."""
        days = self.cleaned_data.get("lifetime_days")
        return timezone.now() + timedelta(days=int(days)) if days else None


class SecretFieldsMixin:
    """Fields that hold secrets are write-only: shown empty, and left blank to keep them."""

    secret_fields: tuple[str, ...] = ()

    def setup_secrets(self) -> None:
        for name in self.secret_fields:
            field = self.fields[name]
            field.required = False
            field.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})
            if self.instance.pk and getattr(self.instance, name):
                field.help_text = _("Set. Leave blank to keep it.")

    def values(self) -> dict:
        values = {name: self.cleaned_data[name] for name in self.Meta.fields}
        for name in self.secret_fields:
            if not values[name] and self.instance.pk:
                del values[name]
        return values


class MailboxForm(SecretFieldsMixin, forms.ModelForm):
    secret_fields = ("imap_url", "smtp_url")
    stop_imap = forms.BooleanField(label=_("Stop polling by IMAP"), required=False)

    class Meta:
        model = Mailbox
        fields = [
            "address",
            "sender_name",
            "acknowledge",
            "response_time_hours",
            "reopen_window_days",
            "imap_url",
            "smtp_url",
        ]
        labels = {
            "address": _("Address"),
            "sender_name": _("Sender name"),
            "acknowledge": _("Acknowledge new conversations"),
            "response_time_hours": _("Promised response time (hours)"),
            "reopen_window_days": _("Reopen window (days)"),
            "imap_url": _("IMAP mailbox to poll"),
            "smtp_url": _("Outgoing mail server"),
        }
        help_texts = {
            "address": _("Mail to this address opens conversations of the brand."),
            "sender_name": _("The name replies are sent with (blank: the brand's)."),
            "imap_url": _("imaps://user:password@host:993/INBOX, or blank."),
            "smtp_url": _(
                "smtps://user:password@host:465 or smtp+starttls://…:587; blank: the "
                "platform's server."
            ),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.setup_secrets()
        if not (self.instance.pk and self.instance.imap_url):
            del self.fields["stop_imap"]

    def clean_imap_url(self) -> str:
        value = self.cleaned_data["imap_url"].strip()
        if value and not value.startswith(("imap://", "imaps://")):
            raise forms.ValidationError(_("An imaps:// or imap:// address."))
        return value

    def clean_smtp_url(self) -> str:
        from comptoir.settings import parse_email_url

        value = self.cleaned_data["smtp_url"].strip()
        if value:
            try:
                parse_email_url(value)
            except ValueError:
                raise forms.ValidationError(
                    _("An smtp://, smtp+starttls:// or smtps:// address.")
                ) from None
            if value.startswith("file:"):
                raise forms.ValidationError(_("An smtp://, smtp+starttls:// or smtps:// address."))
        return value

    def values(self) -> dict:
        values = super().values()
        if self.cleaned_data.get("stop_imap"):
            values["imap_url"] = ""
        return values


class MessagingAccountForm(SecretFieldsMixin, forms.ModelForm):
    secret_fields = ("app_secret", "access_token")

    class Meta:
        model = MessagingAccount
        fields = [
            "provider",
            "external_id",
            "display_name",
            "app_secret",
            "access_token",
            "is_active",
        ]
        labels = {
            "provider": _("Provider"),
            "external_id": _("Account id"),
            "display_name": _("Display number or name"),
            "app_secret": _("App secret"),
            "access_token": _("Access token"),
            "is_active": _("Active"),
        }
        help_texts = {
            "app_secret": _("From Meta's app dashboard: signs the webhooks Meta sends."),
            "access_token": _("From Meta's app dashboard: sends the replies."),
        }
        widgets = {"access_token": forms.PasswordInput()}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.setup_secrets()
        if not self.instance.pk:
            self.fields["app_secret"].required = True


class PhoneLineForm(SecretFieldsMixin, forms.ModelForm):
    secret_fields = ("twilio_auth_token",)
    status_callback_url = forms.URLField(
        label=_("Twilio status callback URL"),
        required=False,
        assume_scheme="https",
        help_text=_(
            "Where Twilio reports calls placed from the console: this server's "
            "/webhooks/twilio/<brand>/voice as the internet reaches it."
        ),
    )

    class Meta:
        model = PhoneLine
        fields = [
            "number",
            "label",
            "provider",
            "twilio_account_sid",
            "twilio_auth_token",
            "status_callback_url",
            "is_active",
        ]
        labels = {
            "number": _("Number"),
            "label": _("Label"),
            "provider": _("Provider"),
            "twilio_account_sid": _("Twilio account SID"),
            "twilio_auth_token": _("Twilio auth token"),
            "is_active": _("Active"),
        }
        help_texts = {
            "number": _("E.164, e.g. +33180000000"),
            "provider": _("Who places the calls agents start from the console."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.setup_secrets()

    def clean_number(self) -> str:
        number = self.cleaned_data["number"].replace(" ", "")
        if not E164.match(number):
            raise forms.ValidationError(_("An international number: + then digits."))
        return number

    def clean(self) -> dict:
        data = super().clean()
        if data.get("provider") == "twilio":
            has_token = data.get("twilio_auth_token") or self.instance.twilio_auth_token
            if not data.get("twilio_account_sid") or not has_token:
                raise forms.ValidationError(_("Twilio needs the account SID and auth token."))
        return data
