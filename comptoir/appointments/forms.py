"""Forms of the in-person set-up page (administrators): locations, services, staff, schedules."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comptoir.appointments.models import Location, Resource, Service
from comptoir.routing.models import Skill
from comptoir.sla.forms import WeekForm, format_spans
from comptoir.sla.models import BusinessCalendar
from comptoir.tenancy.models import Brand, Membership


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ["name", "address", "calendar"]
        labels = {"name": _("Name"), "address": _("Address"), "calendar": _("Opening hours")}
        help_texts = {"calendar": _("A calendar of the SLA settings: hours, breaks, holidays.")}
        widgets = {"address": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, brand: Brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.brand = brand
        self.fields["calendar"].queryset = BusinessCalendar.objects.filter(brand=brand).order_by(
            "name"
        )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Location.objects.filter(brand=self.instance.brand, name=name)
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("A location of this name exists already."))
        return name


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = ["name_fr", "name_en", "duration_minutes", "capacity", "skills"]
        labels = {
            "name_fr": _("Name (French)"),
            "name_en": _("Name (English)"),
            "duration_minutes": _("Duration (minutes)"),
            "capacity": _("Places per slot"),
            "skills": _("Skills needed"),
        }
        help_texts = {"capacity": _("At most: also bounded by the skilled staff at work.")}
        widgets = {"skills": forms.CheckboxSelectMultiple}

    def __init__(self, *args, brand: Brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.brand = brand
        self.fields["skills"].queryset = Skill.objects.filter(brand=brand).order_by("name")
        self.fields["skills"].required = False
        self.fields["duration_minutes"].min_value = 5
        self.fields["duration_minutes"].widget.attrs["min"] = 5
        self.fields["capacity"].min_value = 1
        self.fields["capacity"].widget.attrs["min"] = 1


class StaffForm(forms.Form):
    """Adds one of the brand's agents to a location's staff."""

    membership = forms.ModelChoiceField(label=_("Agent"), queryset=Membership.objects.none())
    desk = forms.CharField(label=_("Desk"), max_length=40, required=False)

    def __init__(self, *args, location: Location, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = (
            Membership.objects.filter(brand_id=location.brand_id, is_active=True)
            .exclude(pk__in=location.resources.values("membership_id"))
            .select_related("user")
            .order_by("user__first_name", "user__username")
        )
        self.fields["membership"].label_from_instance = lambda m: m.display_name


class HoursForm(WeekForm):
    """A staff member's desk and weekly hours; all days empty: whenever the location is open."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day_0"].help_text = _(
            "e.g. 09:00-12:30, 14:00-18:00. Every day empty: at work whenever the location is open."
        )
        self.fields["desk"] = forms.CharField(label=_("Desk"), max_length=40, required=False)

    @classmethod
    def for_resource(cls, resource: Resource) -> "HoursForm":
        week: dict[int, list] = {}
        for hours in resource.hours.all():
            week.setdefault(hours.weekday, []).append((hours.starts, hours.ends))
        initial = {f"day_{d}": format_spans(spans) for d, spans in week.items()}
        return cls(initial={**initial, "desk": resource.desk})


class AbsenceForm(forms.Form):
    """An absence, its times in the location's time zone."""

    starts_at = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("To"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=120, required=False)

    def __init__(self, *args, zone: ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def _in_zone(self, value: datetime) -> datetime:
        # Typed as the location's wall-clock time, whatever the server's zone.
        naive = timezone.make_naive(value) if timezone.is_aware(value) else value
        return naive.replace(tzinfo=self.zone)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("starts_at") and cleaned.get("ends_at"):
            cleaned["starts_at"] = self._in_zone(cleaned["starts_at"])
            cleaned["ends_at"] = self._in_zone(cleaned["ends_at"])
            if cleaned["ends_at"] <= cleaned["starts_at"]:
                raise forms.ValidationError(_("An absence ends after it starts."))
        return cleaned
