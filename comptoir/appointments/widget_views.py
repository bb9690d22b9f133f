"""The widget's slot picker: ``POST /widget/api/appointments/slots`` and ``…/appointments``.

Authenticated like the widget's own endpoints (the visitor token is the only
credential). A booking is first the customer's message ("Appointment request: …",
ingested like any chat message, so it is in their history and the inbox even if
the slot is taken meanwhile), then the booking on that customer; the confirmation
with the signed link follows on the chat like any reply.
"""

import json
import uuid
from datetime import datetime, time, timedelta

from django.core.exceptions import RequestDataTooBig, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from comptoir.appointments import actions
from comptoir.appointments.links import manage_url
from comptoir.appointments.models import HOLDING_STATUSES, Appointment, Location, Service
from comptoir.appointments.texts import day_or_none, when_text
from comptoir.conversations.inbound import InboundAttachment, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Channel
from comptoir.conversations.payloads import message_customer_payload
from comptoir.text_cleaning import clean_data
from comptoir.widget.texts import visitor_language
from comptoir.widget.uploads import guard_uploads
from comptoir.widget.views import error_response, widget_api
from comptoir.widget.visitors import (
    authenticate_visitor,
    bearer_token,
    visitor_claims,
    visitor_customer,
)

# How many days the picker looks ahead for the first day with a free slot.
LOOK_AHEAD_DAYS = 14


def _refused(status: int, code: str, text: str) -> JsonResponse:
    return JsonResponse({"code": code, "error": text}, status=status)


def _body(request: HttpRequest) -> dict | None:
    try:
        body = clean_data(json.loads(request.body or b"{}"))
    except (ValueError, RecursionError, RequestDataTooBig):
        return None
    return body if isinstance(body, dict) else None


def _shop(brand) -> Location | None:
    """The brand's location the widget books in (the first one; several: not offered yet)."""
    return Location.objects.filter(brand=brand).select_related("calendar").order_by("pk").first()


def _service(brand, value) -> Service | None:
    services = Service.objects.filter(brand=brand).order_by("pk")
    if value in (None, ""):
        return services.first()
    try:
        return services.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


@widget_api(("POST",))
def slots(request: HttpRequest) -> HttpResponse:
    """JSON ``{service_id?, day?}`` → the services, and the free slots of the first open day."""
    _, brand = authenticate_visitor(bearer_token(request))
    with translation.override(visitor_language(request, None, brand)):
        body = _body(request)
        location = _shop(brand)
        if body is None:
            return _refused(400, "bad_request", gettext("Unknown action."))
        if location is None:
            return _refused(404, "no_location", gettext("No location is set up yet."))
        service = _service(brand, body.get("service_id"))
        if service is None:
            return _refused(404, "no_service", gettext("Choose a slot."))
        zone = location.calendar.as_calendar().zone
        day = day_or_none(body.get("day")) or timezone.now().astimezone(zone).date()
        found: list = []
        for _ in range(LOOK_AHEAD_DAYS):
            start = datetime.combine(day, time(0)).replace(tzinfo=zone)
            found = actions.available_slots(location, service, start, start + timedelta(days=1))
            if found:
                break
            day += timedelta(days=1)
        return JsonResponse(
            {
                "location": {"id": location.pk, "name": location.name},
                "services": [
                    {"id": s.pk, "name": s.name, "minutes": s.duration_minutes}
                    for s in Service.objects.filter(brand=brand).order_by("pk")
                ],
                "service_id": service.pk,
                "day": day.isoformat(),
                "next_day": (day + timedelta(days=1)).isoformat(),
                "slots": [
                    {
                        "starts_at": slot.starts_at.isoformat(),
                        "label": slot.starts_at.astimezone(zone).strftime("%H:%M"),
                    }
                    for slot in found
                ],
            }
        )


BOOKING_FIELDS = ("service_id", "starts_at", "serial_number", "problem", "client_id")


def _multipart(
    request: HttpRequest,
) -> tuple[dict | None, list[InboundAttachment], HttpResponse | None]:
    """The form fields and photos of a multipart booking; a refusal response, or None.

    The files pass the widget's upload guard (``conversations.attachment_policy``:
    types, names, first bytes, size) as they stream in: a refused one refuses the
    booking, so the visitor can send it again without it.
    """
    guard = guard_uploads(request)
    try:
        body = {name: request.POST.get(name, "") for name in BOOKING_FIELDS}
        files = request.FILES.getlist("files")
    except RequestDataTooBig:
        return None, [], error_response(413, "file_too_large")
    except (MultiPartParserError, TooManyFilesSent):
        return None, [], error_response(400, "bad_request")
    if guard.refused:
        return None, [], error_response(guard.refused[0].status, guard.refused[0].code)
    attachments = [
        InboundAttachment(f.name or "file", f.content_type or "", f.read()) for f in files
    ]
    return clean_data(body), attachments, None


@widget_api(("POST",))
def book(request: HttpRequest) -> HttpResponse:
    """JSON ``{service_id, starts_at, serial_number?, problem?, client_id}`` → the booking.

    Or the same fields as multipart, with ``files``: photos or videos of the device
    from the phone's camera, attached to the request message and so to the booking.
    """
    visitor, brand = authenticate_visitor(bearer_token(request))
    language = visitor_language(request, None, brand)
    with translation.override(language):
        attachments: list[InboundAttachment] = []
        if request.content_type == "multipart/form-data":
            body, attachments, refusal = _multipart(request)
            if refusal is not None:
                return refusal
        else:
            body = _body(request)
        if body is None:
            return _refused(400, "bad_request", gettext("Unknown action."))
        try:
            client_id = uuid.UUID(str(body.get("client_id", ""))).hex
        except ValueError:
            return _refused(400, "bad_request", gettext("Unknown action."))
        location, service = _shop(brand), _service(brand, body.get("service_id"))
        starts_at = parse_datetime(str(body.get("starts_at") or ""))
        serial = body.get("serial_number") or ""
        problem = body.get("problem") or ""
        if (
            location is None
            or service is None
            or starts_at is None
            or timezone.is_naive(starts_at)
            or not isinstance(serial, str)
            or not isinstance(problem, str)
            or len(serial) > 64
            or len(problem) > 2000
        ):
            return _refused(400, "invalid_slot", gettext("Choose a slot."))
        draft = Appointment(location=location, service=service, starts_at=starts_at)
        text = gettext("Appointment request: %(service)s, %(when)s at %(location)s") % {
            "service": service.name,
            "when": when_text(draft),
            "location": location.name,
        }
        if problem.strip():
            text += "\n" + problem.strip()
        result = ingest_message(
            InboundMessage(
                brand=brand,
                channel=Channel.WEBCHAT,
                external_id=f"{visitor.visitor_id}:appointment:{client_id}",
                text=text,
                identities=visitor_claims(visitor, visitor_customer(visitor)),
                attachments=attachments,
                language=language,
            )
        )
        customer = result.message.conversation.customer
        appointment = None
        if not result.created:  # the same request sent again: its booking, if it got one
            appointment = Appointment.objects.filter(
                customer=customer, service=service, starts_at=starts_at, status__in=HOLDING_STATUSES
            ).first()
        if appointment is None:
            try:
                appointment = actions.book_appointment(
                    location,
                    service,
                    starts_at,
                    customer=customer,
                    serial_number=serial,
                    problem=problem,
                    request_message=result.message,
                )
            except actions.BookingError as error:
                return _refused(409, "slot_taken", str(error))
        return JsonResponse(
            {
                "appointment": {
                    "reference": appointment.reference,
                    "starts_at": appointment.starts_at.isoformat(),
                    "when": when_text(appointment),
                    "manage_url": manage_url(appointment),
                },
                "message": message_customer_payload(
                    result.message, list(result.message.attachments.all()) if attachments else []
                ),
            },
            status=201 if result.created else 200,
        )
