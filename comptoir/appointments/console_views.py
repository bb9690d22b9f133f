"""The appointments desk in the console (``/console/appointments/``), the lobby and devices.

Any agent of the brand: the day's bookings and the waiting room of a location,
check-in by search (name, phone, e-mail, reference), walk-ins, call next, serve,
park (on hold) and resume, transfer to a colleague or another service,
no-show, cancel; booking a slot for a customer; the lobby screen (first names
or ticket numbers only); a device's service history by serial number. Views
parse, fetch through ``appointments.access`` and call ``appointments.actions``.
"""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from comptoir.appointments import actions
from comptoir.appointments.access import (
    access_appointment,
    access_device,
    access_location,
    access_service,
)
from comptoir.appointments.models import (
    Appointment,
    AppointmentStatus,
    Device,
    Location,
    Outcome,
    Service,
)
from comptoir.appointments.texts import day_or_none, local_day
from comptoir.appointments.waiting import lobby_of, places, staff_at
from comptoir.customers.access import access_customer
from comptoir.events.models import Event
from comptoir.tenancy.access import access_colleague, request_membership
from comptoir.tenancy.models import Membership


def _locations(membership: Membership) -> list[Location]:
    return list(
        Location.objects.filter(brand_id=membership.brand_id)
        .select_related("calendar")
        .order_by("name")
    )


def _chosen_location(request: HttpRequest, membership: Membership) -> Location | None:
    if request.GET.get("location"):
        return access_location(membership, request.GET["location"])
    locations = _locations(membership)
    return locations[0] if locations else None


def _back_to_desk(appointment_or_location) -> HttpResponse:
    location_id = (
        getattr(appointment_or_location, "location_id", None) or appointment_or_location.pk
    )
    return redirect(f"{reverse('appointments:desk')}?location={location_id}")


def _search(membership: Membership, location: Location, query: str) -> list[Appointment]:
    """Today's and upcoming bookings matching a name, phone, e-mail or reference."""
    query = query.strip()
    if not query:
        return []
    return list(
        Appointment.objects.filter(
            location=location, status=AppointmentStatus.BOOKED, ends_at__gte=timezone.now()
        )
        .filter(
            Q(reference__iexact=query)
            | Q(customer__display_name__icontains=query)
            | Q(customer__identities__value__icontains=query)
        )
        .select_related("customer", "service")
        .distinct()
        .order_by("starts_at")[:20]
    )


def _desk_context(request: HttpRequest, membership: Membership) -> dict:
    """The desk's context: the location shown, its waiting room and today's bookings."""
    location = _chosen_location(request, membership)
    context = {"membership": membership, "locations": _locations(membership), "location": location}
    if location is None:
        return context
    zone = location.calendar.as_calendar().zone
    day_start, day_end = local_day(timezone.now(), zone)
    queue = actions.waiting_queue(location)
    return context | {
        "today": list(
            Appointment.objects.filter(
                location=location, starts_at__gte=day_start, starts_at__lt=day_end
            )
            .select_related("customer", "service", "device")
            .order_by("starts_at", "pk")
        ),
        "queue": list(zip(queue, places(queue, *staff_at(location)), strict=True)),
        "zone": zone,
    }


@require_safe
@login_required
def desk(request: HttpRequest) -> HttpResponse:
    """The desk; its live part (``desk_fragment``) follows the brand's events like the board."""
    membership = request_membership(request)
    context = _desk_context(request, membership)
    location = context["location"]
    if location is not None:
        context |= {
            "called": list(
                Appointment.objects.filter(location=location, status=AppointmentStatus.CALLED)
                .select_related("customer", "service", "device", "served_by__user")
                .order_by("called_at")
            ),
            "parked": list(
                Appointment.objects.filter(location=location, status=AppointmentStatus.PARKED)
                .select_related("customer", "service", "device", "served_by__user")
                .order_by("queued_at", "pk")
            ),
            "staff": list(location.resources.select_related("membership__user").order_by("pk")),
            "query": request.GET.get("q", ""),
            "found": _search(membership, location, request.GET.get("q", "")),
            "services": list(
                Service.objects.filter(brand_id=membership.brand_id).order_by("name_en")
            ),
            "outcomes": Outcome.choices,
            "last_event_id": Event.objects.filter(brand_id=membership.brand_id)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
            or 0,
        }
    return render(request, "appointments/desk.html", context)


@require_safe
@login_required
def desk_fragment(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    return render(request, "appointments/_desk_live.html", _desk_context(request, membership))


@require_safe
@login_required
def lobby(request: HttpRequest, location_id: int) -> HttpResponse:
    membership = request_membership(request)
    location = access_location(membership, location_id)
    return render(request, "appointments/lobby.html", {"location": location, **lobby_of(location)})


def _slots_context(membership: Membership, request: HttpRequest, customer) -> dict:
    """What the booking page shows: the customer, the choices and the chosen day's slots."""
    locations = _locations(membership)
    services = list(Service.objects.filter(brand_id=membership.brand_id).order_by("name_en"))
    context = {
        "membership": membership,
        "customer": customer,
        "locations": locations,
        "services": services,
        "slots": [],
    }
    if not locations or not services:
        return context
    location = access_location(membership, request.GET.get("location") or locations[0].pk)
    service = access_service(membership, request.GET.get("service") or services[0].pk)
    zone = location.calendar.as_calendar().zone
    day = day_or_none(request.GET.get("day")) or timezone.now().astimezone(zone).date()
    start = datetime.combine(day, time(0)).replace(tzinfo=zone)
    context |= {
        "location": location,
        "service": service,
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "slots": actions.available_slots(location, service, start, start + timedelta(days=1)),
        "zone": zone,
    }
    return context


@login_required
def book(request: HttpRequest, customer_id: int) -> HttpResponse:
    """GET: the slot picker for a customer; POST: book the chosen slot."""
    membership = request_membership(request)
    customer = access_customer(membership, customer_id)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405)
    if request.method != "POST":
        context = _slots_context(membership, request, customer)
        return render(request, "appointments/book.html", context)
    again = reverse("appointments:book", kwargs={"customer_id": customer.pk})
    if not request.POST.get("location") or not request.POST.get("service"):
        messages.error(request, gettext("Choose a slot."))
        return redirect(again)
    location = access_location(membership, request.POST["location"])
    service = access_service(membership, request.POST["service"])
    starts_at = parse_datetime(request.POST.get("starts_at", "") or "")
    if starts_at is None or timezone.is_naive(starts_at):
        messages.error(request, gettext("Choose a slot."))
        return redirect(again)
    try:
        appointment = actions.book_appointment(
            location,
            service,
            starts_at,
            customer=customer,
            booked_by=membership,
            serial_number=request.POST.get("serial_number", "")[:64],
            problem=request.POST.get("problem", ""),
        )
    except actions.BookingError as error:
        messages.error(request, str(error))
        return redirect(again)
    messages.success(
        request, gettext("Booked: reference %(reference)s.") % {"reference": appointment.reference}
    )
    return redirect("console:customer", customer_id=customer.pk)


def _act(request: HttpRequest, appointment_id: int, act) -> HttpResponse:
    membership = request_membership(request)
    appointment = access_appointment(membership, appointment_id)
    try:
        act(appointment, membership)
    except actions.BookingError as error:
        messages.error(request, str(error))
    return _back_to_desk(appointment)


@require_POST
@login_required
def check_in(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _act(request, appointment_id, lambda a, m: actions.check_in(a, by=m))


@require_POST
@login_required
def call(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _act(request, appointment_id, lambda a, m: actions.call_appointment(a, m))


@require_POST
@login_required
def serve(request: HttpRequest, appointment_id: int) -> HttpResponse:
    outcome = request.POST.get("outcome", "")
    diagnosis = request.POST.get("diagnosis", "")
    return _act(
        request,
        appointment_id,
        lambda a, m: actions.serve_appointment(a, m, outcome=outcome, diagnosis=diagnosis),
    )


@require_POST
@login_required
def no_show(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _act(request, appointment_id, lambda a, m: actions.mark_no_show(a, m))


@require_POST
@login_required
def park(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _act(request, appointment_id, lambda a, m: actions.park_appointment(a, m))


@require_POST
@login_required
def resume(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _act(request, appointment_id, lambda a, m: actions.resume_appointment(a, m))


@require_POST
@login_required
def transfer(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """To a staff member of the location (``to``; empty: anyone) and/or a service."""
    membership = request_membership(request)
    service_id = request.POST.get("service", "")
    service = access_service(membership, service_id) if service_id else None
    to = access_colleague(membership, request.POST["to"]) if request.POST.get("to") else None
    return _act(
        request,
        appointment_id,
        lambda a, m: actions.transfer_appointment(a, m, to=to, service=service),
    )


@require_POST
@login_required
def cancel(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _act(request, appointment_id, lambda a, m: actions.cancel_appointment(a, by=m))


@require_POST
@login_required
def call_next(request: HttpRequest, location_id: int) -> HttpResponse:
    membership = request_membership(request)
    location = access_location(membership, location_id)
    if actions.call_next(location, membership) is None:
        messages.info(request, gettext("Nobody is waiting."))
    return _back_to_desk(location)


@require_POST
@login_required
def walk_in(request: HttpRequest, location_id: int) -> HttpResponse:
    membership = request_membership(request)
    location = access_location(membership, location_id)
    first_name = request.POST.get("first_name", "").strip()
    if not request.POST.get("service") or not first_name:
        messages.error(request, gettext("Give the customer's first name and the service."))
        return _back_to_desk(location)
    service = access_service(membership, request.POST["service"])
    appointment = actions.add_walk_in(
        location,
        service,
        by=membership,
        first_name=first_name,
        serial_number=request.POST.get("serial_number", "")[:64],
        problem=request.POST.get("problem", ""),
    )
    messages.success(request, gettext("Ticket %(ticket)s.") % {"ticket": appointment.ticket})
    return _back_to_desk(location)


@require_safe
@login_required
def devices(request: HttpRequest) -> HttpResponse:
    """Search devices by serial number (exact, or its beginning)."""
    membership = request_membership(request)
    serial = request.GET.get("serial", "").strip().upper()
    found = []
    if serial:
        found = list(
            Device.objects.filter(brand_id=membership.brand_id, serial_number__startswith=serial)
            .select_related("customer")
            .order_by("serial_number")[:50]
        )
        if len(found) == 1 and found[0].serial_number == serial:
            return redirect("appointments:device", device_id=found[0].pk)
    return render(
        request,
        "appointments/devices.html",
        {"membership": membership, "serial": serial, "found": found},
    )


@require_safe
@login_required
def device(request: HttpRequest, device_id: int) -> HttpResponse:
    """A device's whole service history: its appointments, diagnoses, outcomes and the
    photos the customer sent with each booking (staff only: the console's attachment URLs)."""
    membership = request_membership(request)
    device = access_device(membership, device_id)
    history = list(
        device.appointments.select_related(
            "location", "service", "customer", "served_by__user", "request_message"
        )
        .prefetch_related("request_message__attachments")
        .order_by("-starts_at")
    )
    return render(
        request,
        "appointments/device.html",
        {"membership": membership, "device": device, "history": history},
    )
