"""The customer's own page for one appointment, reached by its signed link (or its QR code).

``/appointments/<token>/``: GET shows the booking (its check-in link as a QR
code while booked — also ``qr.svg`` for messages — and, once checked in, the
place in the waiting room and the estimated wait, re-read from ``place/`` when
the location's socket says the line moved: ``appointments.consumers``); POST
checks in, moves to another free slot or cancels. The
token is the only key (``appointments.links``): a forged or altered one is a
404, and it never shows anything but its own booking — the customer's first
name, not their file.
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from comptoir.appointments import actions
from comptoir.appointments.links import appointment_for_token, manage_path
from comptoir.appointments.models import Appointment, AppointmentStatus
from comptoir.appointments.qr import qr_svg, qr_svg_document
from comptoir.appointments.texts import day_or_none, when_text
from comptoir.appointments.waiting import place_of
from comptoir.events.actors import CUSTOMER
from comptoir.routing.wait_texts import spoken_duration

# A customer may check in from this long before their slot.
CHECK_IN_EARLY = timedelta(hours=1)


def _appointment(token: str) -> Appointment:
    appointment = appointment_for_token(token)
    if appointment is None:
        raise Http404("No such appointment.")
    return appointment


def _language(appointment: Appointment, request: HttpRequest) -> str:
    """``?lang=`` when it is one of ours (the page's own refreshes ask in its language), else
    the customer's, else the brand's."""
    asked = request.GET.get("lang", "")
    if asked in dict(settings.LANGUAGES):
        return asked
    customer = appointment.customer
    return (customer.language if customer else "") or appointment.brand.default_language


def place_sentence(ahead: int, wait_seconds: int) -> str:
    """ "You are number 3 in line. Estimated wait: 20 min." (the widget's words)."""
    if ahead == 0:
        place = gettext("You are next in line.")
    else:
        place = gettext("You are number %(position)d in line.") % {"position": ahead + 1}
    if ahead == 0 and wait_seconds == 0:
        return place  # a desk is free: called any moment
    wait = gettext("Estimated wait: %(duration)s.") % {"duration": spoken_duration(wait_seconds)}
    return f"{place} {wait}"


def _place_data(appointment: Appointment) -> dict:
    place = place_of(appointment)
    data = {"status": appointment.status, "ticket": appointment.ticket, "desk": appointment.desk}
    if place is not None:
        data |= {
            "position": place.position,
            "wait_seconds": place.wait_seconds,
            "text": place_sentence(place.position, place.wait_seconds),
        }
    return data


def _context(appointment: Appointment, request: HttpRequest, error: str = "") -> dict:
    now = timezone.now()
    zone = appointment.location.calendar.as_calendar().zone
    context = {
        "appointment": appointment,
        "token": request.resolver_match.kwargs["token"],
        "when": when_text(appointment),
        "place": _place_data(appointment),
        "error": error,
        "can_check_in": appointment.status == AppointmentStatus.BOOKED
        and appointment.starts_at - CHECK_IN_EARLY <= now <= appointment.ends_at,
        "can_change": appointment.status == AppointmentStatus.BOOKED
        and appointment.starts_at > now,
    }
    if appointment.status == AppointmentStatus.BOOKED:
        # Generated from our own link: markup we made, not user content.
        context["qr"] = mark_safe(qr_svg(appointment, title=gettext("Check-in QR code")))  # noqa: S308
    if context["can_change"]:
        day = day_or_none(request.GET.get("day")) or appointment.starts_at.astimezone(zone).date()
        start = datetime.combine(day, time(0)).replace(tzinfo=zone)
        context |= {
            "day": day,
            "next_day": day + timedelta(days=1),
            "previous_day": day - timedelta(days=1),
            "slots": actions.available_slots(
                appointment.location,
                appointment.service,
                start,
                start + timedelta(days=1),
                exclude=appointment,
            ),
            "zone": zone,
        }
    return context


def manage(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _appointment(token)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405)
    with translation.override(_language(appointment, request)):
        if request.method != "POST":
            return render(request, "appointments/manage.html", _context(appointment, request))
        action = request.POST.get("action", "")
        try:
            if action == "check_in":
                if not _context(appointment, request)["can_check_in"]:
                    raise actions.BookingError(
                        gettext("Check-in opens one hour before your appointment.")
                    )
                actions.check_in(appointment, actor=CUSTOMER)
            elif action == "cancel":
                actions.cancel_appointment(appointment, actor=CUSTOMER)
            elif action == "reschedule":
                starts_at = parse_datetime(request.POST.get("starts_at", "") or "")
                if starts_at is None or timezone.is_naive(starts_at):
                    raise actions.BookingError(gettext("Choose a slot."))
                actions.reschedule_appointment(appointment, starts_at, actor=CUSTOMER)
            else:
                return HttpResponse(gettext("Unknown action."), status=400)
        except actions.BookingError as error:
            appointment.refresh_from_db()
            return render(
                request,
                "appointments/manage.html",
                _context(appointment, request, str(error)),
                status=409,
            )
    return redirect(manage_path(appointment))


@require_safe
def qr_code(request: HttpRequest, token: str) -> HttpResponse:
    """The check-in link as a QR code image (SVG), for the confirmation message."""
    appointment = _appointment(token)
    response = HttpResponse(qr_svg_document(appointment), content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@require_safe
def place(request: HttpRequest, token: str) -> JsonResponse:
    """The live part of the page: status, ticket, place and wait (read on each nudge)."""
    appointment = _appointment(token)
    with translation.override(_language(appointment, request)):
        return JsonResponse(_place_data(appointment))
