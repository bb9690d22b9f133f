"""Appointments and devices in the integrator API (a ninja Router registered in ``api.urls``).

Any agent's token of the brand: the brand's locations and services, a day's
free slots, booking, moving and cancelling for a customer, and devices by
serial number with their service history. Another brand's objects are 404;
a slot taken meanwhile is 409 with the reason.
"""

from datetime import date, datetime, time, timedelta

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from comptoir.api.endpoints import NOT_FOUND, REFUSED
from comptoir.api.schemas import ErrorOut, ObjectId
from comptoir.appointments import actions
from comptoir.appointments.access import (
    access_appointment,
    access_device,
    access_location,
    access_service,
)
from comptoir.appointments.models import Appointment, Device, Location, Service
from comptoir.customers.access import access_customer
from comptoir.tenancy.models import Membership

appointments_router = Router(tags=["appointments"])
CONFLICT = {**NOT_FOUND, 409: ErrorOut}


class LocationOut(Schema):
    id: int
    name: str
    address: str
    time_zone: str = Field(alias="calendar.time_zone")


class ServiceOut(Schema):
    id: int
    name_fr: str
    name_en: str
    duration_minutes: int
    capacity: int


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime
    free: int = Field(description="Places left in the slot.")


class SlotQuery(Schema):
    location_id: ObjectId
    service_id: ObjectId
    day: date = Field(description="The local day at the location (YYYY-MM-DD).")


class AppointmentIn(Schema):
    customer_id: ObjectId
    location_id: ObjectId
    service_id: ObjectId
    starts_at: datetime = Field(description="A free slot's start (ISO 8601 with offset).")
    serial_number: str = Field("", max_length=64, description="The device, if any.")
    problem: str = Field("", max_length=2000)


class RescheduleIn(Schema):
    starts_at: datetime


class AppointmentOut(Schema):
    id: int
    reference: str
    customer_id: int | None
    location_id: int
    service_id: int
    device_id: int | None
    status: str = Field(description="booked, checked_in, called, served, cancelled or no_show.")
    starts_at: datetime
    ends_at: datetime
    walk_in: bool
    ticket: int | None
    problem: str
    outcome: str
    diagnosis: str


class DeviceOut(Schema):
    id: int
    serial_number: str
    maker: str
    model: str
    customer_id: int | None
    purchased_on: date | None
    warranty_until: date | None
    notes: str


class DeviceHistoryOut(DeviceOut):
    appointments: list[AppointmentOut] = Field(description="Its service history, newest first.")

    @staticmethod
    def resolve_appointments(device: Device) -> list[Appointment]:
        return list(device.appointments.order_by("-starts_at", "-pk"))


def _membership(request: HttpRequest) -> Membership:
    return request.auth  # type: ignore[attr-defined]


def _aware(when: datetime) -> bool:
    return when.tzinfo is not None


@appointments_router.get("/locations", response={200: list[LocationOut], **REFUSED})
def list_locations(request: HttpRequest) -> list[Location]:
    return list(
        Location.objects.filter(brand_id=_membership(request).brand_id)
        .select_related("calendar")
        .order_by("name")
    )


@appointments_router.get("/services", response={200: list[ServiceOut], **REFUSED})
def list_services(request: HttpRequest) -> list[Service]:
    return list(Service.objects.filter(brand_id=_membership(request).brand_id).order_by("pk"))


@appointments_router.get("/appointments/slots", response={200: list[SlotOut], **NOT_FOUND})
def list_slots(request: HttpRequest, query: Query[SlotQuery]) -> list:
    """The free slots of a service at a location on one local day."""
    membership = _membership(request)
    location = access_location(membership, query.location_id)
    service = access_service(membership, query.service_id)
    zone = location.calendar.as_calendar().zone
    start = datetime.combine(query.day, time(0)).replace(tzinfo=zone)
    return actions.available_slots(location, service, start, start + timedelta(days=1))


@appointments_router.post(
    "/appointments", response={201: AppointmentOut, 400: ErrorOut, **CONFLICT}
)
def create_appointment(request: HttpRequest, body: AppointmentIn) -> Status:
    """Book a free slot for a customer; the confirmation leaves on the customer's channel."""
    membership = _membership(request)
    customer = access_customer(membership, body.customer_id)
    location = access_location(membership, body.location_id)
    service = access_service(membership, body.service_id)
    if not _aware(body.starts_at):
        return Status(400, {"detail": "'starts_at' needs its time zone offset."})
    try:
        appointment = actions.book_appointment(
            location,
            service,
            body.starts_at,
            customer=customer,
            booked_by=membership,
            serial_number=body.serial_number,
            problem=body.problem,
        )
    except actions.BookingError as error:
        return Status(409, {"detail": str(error)})
    return Status(201, appointment)


@appointments_router.get(
    "/appointments/{int:appointment_id}", response={200: AppointmentOut, **NOT_FOUND}
)
def get_appointment(request: HttpRequest, appointment_id: ObjectId) -> Appointment:
    return access_appointment(_membership(request), appointment_id)


@appointments_router.post(
    "/appointments/{int:appointment_id}/reschedule",
    response={200: AppointmentOut, 400: ErrorOut, **CONFLICT},
)
def reschedule_appointment(
    request: HttpRequest, appointment_id: ObjectId, body: RescheduleIn
) -> Status:
    """Move a booking not yet checked in to another free slot."""
    membership = _membership(request)
    appointment = access_appointment(membership, appointment_id)
    if not _aware(body.starts_at):
        return Status(400, {"detail": "'starts_at' needs its time zone offset."})
    try:
        appointment = actions.reschedule_appointment(appointment, body.starts_at, by=membership)
    except actions.BookingError as error:
        return Status(409, {"detail": str(error)})
    return Status(200, appointment)


@appointments_router.post(
    "/appointments/{int:appointment_id}/cancel", response={200: AppointmentOut, **CONFLICT}
)
def cancel_appointment(request: HttpRequest, appointment_id: ObjectId) -> Status:
    membership = _membership(request)
    appointment = access_appointment(membership, appointment_id)
    try:
        appointment = actions.cancel_appointment(appointment, by=membership)
    except actions.BookingError as error:
        return Status(409, {"detail": str(error)})
    return Status(200, appointment)


@appointments_router.get("/devices", response={200: list[DeviceOut], **REFUSED})
def search_devices(
    request: HttpRequest, serial_number: str = Query(..., min_length=1, max_length=64)
) -> list[Device]:
    """Devices whose serial number starts with ``serial_number`` (at most 50)."""
    return list(
        Device.objects.filter(
            brand_id=_membership(request).brand_id,
            serial_number__startswith=serial_number.strip().upper(),
        ).order_by("serial_number")[:50]
    )


@appointments_router.get("/devices/{int:device_id}", response={200: DeviceHistoryOut, **NOT_FOUND})
def get_device(request: HttpRequest, device_id: ObjectId) -> Device:
    """A device and its service history (appointments, newest first)."""
    return access_device(_membership(request), device_id)
