"""The SLA administration page: calendars (hours, breaks, holidays, iCal) and policies.

Administrators only (403 for agents and supervisors: policies decide what
customers are promised); another brand's calendars, holidays and policies are
404. Forms post, then redirect (POST-redirect-GET); changes go through
``sla.configure``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from comptoir.sla import configure
from comptoir.sla.access import access_calendar, access_holiday, access_policy
from comptoir.sla.calendars import CalendarError
from comptoir.sla.forms import CalendarForm, HolidayForm, IcalForm, PolicyForm, WeekForm
from comptoir.sla.ical import ICalError
from comptoir.sla.models import BusinessCalendar, OpeningInterval, SlaPolicy
from comptoir.tenancy.access import request_membership
from comptoir.tenancy.models import Membership, Role


def _admin(request: HttpRequest) -> Membership:
    return request_membership(request, require_role=Role.ADMIN)


def _overview(request, membership, calendar_form=None, policy_form=None, status=200):
    calendars = (
        BusinessCalendar.objects.filter(brand=membership.brand)
        .select_related("team")
        .prefetch_related(Prefetch("intervals", OpeningInterval.objects.order_by("weekday")))
        .order_by("name")
    )
    policies = (
        SlaPolicy.objects.filter(brand=membership.brand)
        .select_related("calendar", "team")
        .order_by("name")
    )
    return render(
        request,
        "sla/console/overview.html",
        {
            "membership": membership,
            "calendars": calendars,
            "policies": policies,
            "calendar_form": calendar_form or CalendarForm(brand=membership.brand),
            "policy_form": policy_form or PolicyForm(brand=membership.brand),
        },
        status=status,
    )


@require_safe
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    return _overview(request, _admin(request))


@require_POST
@login_required
def calendar_create(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    form = CalendarForm(request.POST, brand=membership.brand)
    if not form.is_valid():
        return _overview(request, membership, calendar_form=form, status=400)
    calendar = form.save()
    messages.success(request, gettext("Calendar created: now set its opening hours."))
    return redirect("sla:calendar_edit", calendar_id=calendar.pk)


def _calendar_page(request, membership, calendar, *, form=None, week=None, status=200):
    return render(
        request,
        "sla/console/calendar.html",
        {
            "membership": membership,
            "calendar": calendar,
            "form": form or CalendarForm(instance=calendar, brand=membership.brand),
            "week_form": week or WeekForm.for_calendar(calendar),
            "holiday_form": HolidayForm(),
            "ical_form": IcalForm(),
            "holidays": calendar.holidays.all(),
            "closures": calendar.closures.all(),
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def calendar_edit(request: HttpRequest, calendar_id: int) -> HttpResponse:
    """The calendar's name, zone and team, and its weekly hours (breaks are gaps)."""
    membership = _admin(request)
    calendar = access_calendar(membership, calendar_id)
    if request.method != "POST":
        return _calendar_page(request, membership, calendar)
    form = CalendarForm(request.POST, instance=calendar, brand=membership.brand)
    week = WeekForm(request.POST)
    if not (form.is_valid() and week.is_valid()):
        return _calendar_page(request, membership, calendar, form=form, week=week, status=400)
    form.save()
    configure.set_week(calendar, week.cleaned_data["week"])
    messages.success(request, gettext("Calendar saved."))
    return redirect("sla:calendar_edit", calendar_id=calendar.pk)


@require_POST
@login_required
def holiday_add(request: HttpRequest, calendar_id: int) -> HttpResponse:
    membership = _admin(request)
    calendar = access_calendar(membership, calendar_id)
    form = HolidayForm(request.POST)
    if form.is_valid():
        configure.add_holiday(calendar, form.cleaned_data["date"], form.cleaned_data["name"])
        messages.success(request, gettext("Holiday added."))
    else:
        messages.error(request, gettext("Give the holiday's date."))
    return redirect("sla:calendar_edit", calendar_id=calendar.pk)


@require_POST
@login_required
def holiday_delete(request: HttpRequest, holiday_id: int) -> HttpResponse:
    membership = _admin(request)
    holiday = access_holiday(membership, holiday_id)
    configure.remove_holiday(holiday)
    messages.success(request, gettext("Holiday removed."))
    return redirect("sla:calendar_edit", calendar_id=holiday.calendar_id)


@require_POST
@login_required
def calendar_import(request: HttpRequest, calendar_id: int) -> HttpResponse:
    """Holidays and closures from an uploaded iCalendar file."""
    membership = _admin(request)
    calendar = access_calendar(membership, calendar_id)
    form = IcalForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("sla:calendar_edit", calendar_id=calendar.pk)
    try:
        holidays, closures = configure.import_ical(calendar, form.cleaned_data["file"].read())
    except ICalError as error:
        messages.error(
            request, gettext("This file could not be read: %(reason)s") % {"reason": error}
        )
    else:
        messages.success(
            request,
            gettext("Imported %(holidays)d holidays and %(closures)d closures.")
            % {"holidays": holidays, "closures": closures},
        )
    return redirect("sla:calendar_edit", calendar_id=calendar.pk)


@require_POST
@login_required
def policy_create(request: HttpRequest) -> HttpResponse:
    membership = _admin(request)
    form = PolicyForm(request.POST, brand=membership.brand)
    if not form.is_valid():
        return _overview(request, membership, policy_form=form, status=400)
    configure.save_policy(form.policy())
    messages.success(request, gettext("Policy saved."))
    return redirect("sla:overview")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def policy_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    membership = _admin(request)
    policy = access_policy(membership, policy_id)
    form = PolicyForm(request.POST or None, brand=membership.brand, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            configure.save_policy(form.policy())
        except (ValueError, CalendarError) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, gettext("Policy saved."))
            return redirect("sla:overview")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "sla/console/policy.html",
        {"membership": membership, "policy": policy, "form": form},
        status=status,
    )


@require_POST
@login_required
def policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    membership = _admin(request)
    configure.delete_policy(access_policy(membership, policy_id))
    messages.success(request, gettext("Policy deleted."))
    return redirect("sla:overview")
