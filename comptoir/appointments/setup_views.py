"""Setting up in-person service in the console (Settings → Appointments): administrators.

``/console/appointments/setup/``: the brand's locations and services, and forms
to add them; a location's page (its details, its staff); a service's page; a
staff member's page (desk, weekly hours, absences). Agents and supervisors get
403, another brand's objects 404 (``appointments.access``). Forms post, then
redirect; the changes go through the forms and ``appointments.configure``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from comptoir.appointments import configure
from comptoir.appointments.access import access_location, access_resource, access_service
from comptoir.appointments.forms import (
    AbsenceForm,
    HoursForm,
    LocationForm,
    ServiceForm,
    StaffForm,
)
from comptoir.appointments.models import Location, Service
from comptoir.tenancy.access import request_membership
from comptoir.tenancy.models import Membership, Role


def _admin(request: HttpRequest) -> Membership:
    return request_membership(request, require_role=Role.ADMIN)


def _render(request: HttpRequest, template: str, context: dict, status: int = 200):
    return render(
        request,
        f"appointments/setup/{template}",
        {"section": "appointments", **context},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """The list of locations and services; POST ``form=location|service`` adds one."""
    membership = _admin(request)
    brand = membership.brand
    location_form = LocationForm(brand=brand, prefix="location")
    service_form = ServiceForm(brand=brand, prefix="service")
    status = 200
    if request.method == "POST":
        if request.POST.get("form") == "location":
            location_form = LocationForm(request.POST, brand=brand, prefix="location")
            if location_form.is_valid():
                location = location_form.save()
                messages.success(request, gettext("Location added: now add its staff."))
                return redirect("appointments:setup_location", location_id=location.pk)
        else:
            service_form = ServiceForm(request.POST, brand=brand, prefix="service")
            if service_form.is_valid():
                service_form.save()
                messages.success(request, gettext("Service added."))
                return redirect("appointments:setup")
        status = 400
    return _render(
        request,
        "overview.html",
        {
            "membership": membership,
            "locations": Location.objects.filter(brand=brand)
            .select_related("calendar")
            .prefetch_related("resources__membership__user")
            .order_by("name"),
            "services": Service.objects.filter(brand=brand)
            .prefetch_related("skills")
            .order_by("name_en"),
            "location_form": location_form,
            "service_form": service_form,
        },
        status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def setup_location(request: HttpRequest, location_id: int) -> HttpResponse:
    """A location's details and staff; POST ``form=location`` saves, ``form=staff`` adds one."""
    membership = _admin(request)
    location = access_location(membership, location_id, require_role=Role.ADMIN)
    form = LocationForm(instance=location, brand=membership.brand)
    staff_form = StaffForm(location=location)
    status = 200
    if request.method == "POST":
        if request.POST.get("form") == "staff":
            staff_form = StaffForm(request.POST, location=location)
            if staff_form.is_valid():
                resource = configure.add_staff(
                    location,
                    staff_form.cleaned_data["membership"],
                    desk=staff_form.cleaned_data["desk"],
                )
                messages.success(request, gettext("Staff member added: set their hours."))
                return redirect("appointments:setup_staff", resource_id=resource.pk)
        else:
            form = LocationForm(request.POST, instance=location, brand=membership.brand)
            if form.is_valid():
                form.save()
                messages.success(request, gettext("Location saved."))
                return redirect("appointments:setup_location", location_id=location.pk)
        status = 400
    return _render(
        request,
        "location.html",
        {
            "membership": membership,
            "location": location,
            "form": form,
            "staff_form": staff_form,
            "staff": location.resources.select_related("membership__user")
            .prefetch_related("hours")
            .order_by("pk"),
        },
        status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def setup_service(request: HttpRequest, service_id: int) -> HttpResponse:
    membership = _admin(request)
    service = access_service(membership, service_id, require_role=Role.ADMIN)
    form = ServiceForm(instance=service, brand=membership.brand)
    if request.method == "POST":
        form = ServiceForm(request.POST, instance=service, brand=membership.brand)
        if form.is_valid():
            form.save()
            messages.success(request, gettext("Service saved."))
            return redirect("appointments:setup")
    status = 400 if request.method == "POST" else 200
    return _render(
        request,
        "service.html",
        {"membership": membership, "service": service, "form": form},
        status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def setup_staff(request: HttpRequest, resource_id: int) -> HttpResponse:
    """A staff member at a location: desk and weekly hours (``form=hours``), absences
    (``form=absence``, ``form=remove_absence``), or leaving the location (``form=remove``)."""
    membership = _admin(request)
    resource = access_resource(membership, resource_id)
    zone = resource.location.calendar.as_calendar().zone
    hours_form = HoursForm.for_resource(resource)
    absence_form = AbsenceForm(zone=zone)
    action = request.POST.get("form", "")
    if request.method == "POST":
        if action == "remove":
            location_id = resource.location_id
            resource.delete()
            messages.success(request, gettext("Staff member removed from the location."))
            return redirect("appointments:setup_location", location_id=location_id)
        if action == "remove_absence":
            resource.absences.filter(pk=request.POST.get("absence") or 0).delete()
            return redirect("appointments:setup_staff", resource_id=resource.pk)
        if action == "absence":
            absence_form = AbsenceForm(request.POST, zone=zone)
            if absence_form.is_valid():
                data = absence_form.cleaned_data
                configure.add_absence(
                    resource, data["starts_at"], data["ends_at"], reason=data["reason"]
                )
                messages.success(request, gettext("Absence added."))
                return redirect("appointments:setup_staff", resource_id=resource.pk)
        else:
            hours_form = HoursForm(request.POST)
            if hours_form.is_valid():
                configure.set_working_hours(resource, hours_form.cleaned_data["week"])
                resource.desk = hours_form.cleaned_data["desk"]
                resource.save(update_fields=["desk"])
                messages.success(request, gettext("Hours saved."))
                return redirect("appointments:setup_staff", resource_id=resource.pk)
    return _render(
        request,
        "staff.html",
        {
            "membership": membership,
            "resource": resource,
            "hours_form": hours_form,
            "absence_form": absence_form,
            "absences": resource.absences.all(),
            "zone": zone,
        },
        400 if request.method == "POST" else 200,
    )
