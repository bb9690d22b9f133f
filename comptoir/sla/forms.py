"""Forms of the SLA administration page: calendars, weekly hours, holidays, iCal, policies."""

import re
from datetime import time
from itertools import pairwise

from django import forms
from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import Channel, Priority
from comptoir.sla.models import BusinessCalendar, ReopenRule, SlaPolicy, Weekday
from comptoir.tenancy.models import Brand, Team

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_spans(text: str) -> list[tuple[time, time]]:
    """ "09:00-12:30, 14:00-18:00" → [(09:00, 12:30), (14:00, 18:00)]; "24:00" is midnight."""
    spans = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        match = _SPAN.match(part)
        if match is None:
            raise forms.ValidationError(
                _("“%(part)s” is not a time range like 09:00-12:30."), params={"part": part}
            )
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise forms.ValidationError(_("“%(part)s” is not a valid time."), params={"part": part})
        end = time(0) if h2 == 24 else time(h2, m2)
        start = time(h1, m1)
        if end != time(0) and end <= start:
            raise forms.ValidationError(
                _("“%(part)s” ends before it starts."), params={"part": part}
            )
        spans.append((start, end))
    spans.sort()
    for (_start, end), (next_start, _end) in pairwise(spans):
        if end == time(0) or next_start < end:
            raise forms.ValidationError(_("Two ranges overlap."))
    return spans


def format_spans(spans: list[tuple[time, time]]) -> str:
    return ", ".join(
        f"{start:%H:%M}-{'24:00' if end == time(0) else f'{end:%H:%M}'}" for start, end in spans
    )


class CalendarForm(forms.ModelForm):
    class Meta:
        model = BusinessCalendar
        fields = ["name", "time_zone", "team"]
        labels = {"name": _("Name"), "time_zone": _("Time zone"), "team": _("Team")}
        help_texts = {
            "time_zone": _("For example Europe/Paris: opening hours are in this zone."),
            "team": _("Empty: the brand's default calendar. Set: that team's own hours."),
        }

    def __init__(self, *args, brand: Brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.brand = brand
        self.fields["team"].queryset = Team.objects.filter(brand=brand).order_by("name")
        self.fields["team"].required = False

    def clean(self):
        # The brand is not a field of the form: its unique constraints are checked here.
        cleaned = super().clean()
        others = BusinessCalendar.objects.filter(brand=self.instance.brand).exclude(
            pk=self.instance.pk
        )
        if cleaned.get("name") and others.filter(name=cleaned["name"]).exists():
            self.add_error("name", _("Another calendar has this name."))
        if cleaned.get("team") is None and others.filter(team__isnull=True).exists():
            self.add_error("team", _("The brand already has a default calendar: choose a team."))
        return cleaned


class WeekForm(forms.Form):
    """One text field per weekday: ranges separated by commas; empty: closed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for day in Weekday:
            self.fields[f"day_{day.value}"] = forms.CharField(
                label=day.label,
                required=False,
                max_length=200,
                help_text=_("e.g. 09:00-12:30, 14:00-18:00; empty: closed") if day == 0 else "",
            )

    @classmethod
    def for_calendar(cls, calendar: BusinessCalendar) -> "WeekForm":
        week: dict[int, list[tuple[time, time]]] = {}
        for interval in calendar.intervals.all():
            week.setdefault(interval.weekday, []).append((interval.start, interval.end))
        return cls(initial={f"day_{d}": format_spans(spans) for d, spans in week.items()})

    def clean(self):
        cleaned = super().clean()
        week = {}
        for day in Weekday:
            try:
                spans = parse_spans(cleaned.get(f"day_{day.value}", ""))
            except forms.ValidationError as error:
                self.add_error(f"day_{day.value}", error)
                continue
            if spans:
                week[day.value] = spans
        cleaned["week"] = week
        return cleaned


class HolidayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label=_("Name"), max_length=120, required=False)


class IcalForm(forms.Form):
    file = forms.FileField(label=_("iCalendar file (.ics)"))

    MAX_BYTES = 1_000_000

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        return upload


def _minutes(label) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=1, max_value=60 * 24 * 365, help_text=_("minutes")
    )


class PolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    calendar = forms.ModelChoiceField(queryset=BusinessCalendar.objects.none(), label=_("Calendar"))
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("Any")), *Channel.choices], required=False
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", _("Any")), *((str(v), label) for v, label in Priority.choices)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), label=_("Team"), required=False, empty_label=_("Any")
    )
    first_response_minutes = _minutes(_("First response"))
    next_response_minutes = _minutes(_("Next response"))
    resolution_minutes = _minutes(_("Resolution"))
    at_risk_percent = forms.IntegerField(
        label=_("At risk after (% of the target)"), min_value=1, max_value=99, initial=80
    )
    on_reopen = forms.ChoiceField(
        label=_("When reopened"), choices=ReopenRule.choices, initial=ReopenRule.RESUME
    )

    TARGETS = ("first_response", "next_response", "resolution")

    def __init__(self, *args, brand: Brand, instance: SlaPolicy | None = None, **kwargs):
        self.brand = brand
        self.instance = instance or SlaPolicy(brand=brand)
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "calendar": instance.calendar_id,
                "channel": instance.channel,
                "priority": "" if instance.priority is None else str(instance.priority),
                "team": instance.team_id,
                "at_risk_percent": instance.at_risk_percent,
                "on_reopen": instance.on_reopen,
            } | {
                f"{target}_minutes": (getattr(instance, f"{target}_seconds") or 0) // 60 or None
                for target in self.TARGETS
            }
        super().__init__(*args, **kwargs)
        self.fields["calendar"].queryset = BusinessCalendar.objects.filter(brand=brand)
        self.fields["team"].queryset = Team.objects.filter(brand=brand).order_by("name")

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(f"{target}_minutes") for target in self.TARGETS):
            raise forms.ValidationError(_("Set at least one target."))
        name = cleaned.get("name")
        taken = SlaPolicy.objects.filter(brand=self.brand, name=name).exclude(pk=self.instance.pk)
        if name and taken.exists():
            self.add_error("name", _("Another policy has this name."))
        return cleaned

    def policy(self) -> SlaPolicy:
        """The instance with the cleaned values (not saved: ``configure.save_policy`` does)."""
        policy, data = self.instance, self.cleaned_data
        policy.name, policy.calendar = data["name"], data["calendar"]
        policy.channel, policy.priority, policy.team = (
            data["channel"],
            data["priority"],
            data["team"],
        )
        policy.at_risk_percent, policy.on_reopen = data["at_risk_percent"], data["on_reopen"]
        for target in self.TARGETS:
            minutes = data.get(f"{target}_minutes")
            setattr(policy, f"{target}_seconds", minutes * 60 if minutes else None)
        return policy
