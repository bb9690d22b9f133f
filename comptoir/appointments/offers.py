"""What the assistant offers a customer who asks for an appointment: the next free slots.

The assistant (``assistant.processing``) books instead of handing off when the
brand has a location with free slots: it lists the next few, numbered, and
books the one the customer answers with (``book_offered``). No free slot, no
location: it hands off as before. The offer is kept in the assistant's state of
the conversation as plain data (``Offer.as_details``), so the answer that
comes minutes later books exactly the slot that was shown.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext

from comptoir.appointments import actions
from comptoir.appointments.links import manage_url
from comptoir.appointments.models import Appointment, AppointmentStatus, Location, Service
from comptoir.appointments.slots import Slot
from comptoir.appointments.texts import appointment_line, when_text
from comptoir.customers.models import Customer
from comptoir.events.actors import BOT

# How many slots the assistant lists, and how far ahead it looks for them.
OFFERED = 3
LOOK_AHEAD_DAYS = 14


@dataclass(frozen=True)
class Offer:
    location: Location
    service: Service
    slots: list[Slot]

    def as_details(self) -> dict:
        """What the assistant keeps to book the slot the customer picks."""
        return {
            "location_id": self.location.pk,
            "service_id": self.service.pk,
            "slots": [slot.starts_at.isoformat() for slot in self.slots],
        }


def next_slots(brand_id: int, *, count: int = OFFERED) -> Offer | None:
    """The next ``count`` free slots of the brand's first location and service, or None."""
    location = (
        Location.objects.filter(brand_id=brand_id).select_related("calendar").order_by("pk").first()
    )
    service = Service.objects.filter(brand_id=brand_id).order_by("pk").first()
    if location is None or service is None:
        return None
    zone = location.calendar.as_calendar().zone
    day = timezone.now().astimezone(zone).date()
    found: list[Slot] = []
    for _ in range(LOOK_AHEAD_DAYS):
        start = datetime.combine(day, time(0)).replace(tzinfo=zone)
        found += actions.available_slots(location, service, start, start + timedelta(days=1))
        if len(found) >= count:
            break
        day += timedelta(days=1)
    if not found:
        return None
    return Offer(location, service, found[:count])


def upcoming_booking(customer: Customer) -> Appointment | None:
    """The customer's next booking still ahead (then the assistant points to it instead)."""
    return (
        Appointment.objects.filter(
            customer=customer, status=AppointmentStatus.BOOKED, starts_at__gt=timezone.now()
        )
        .select_related("brand", "location__calendar", "service")
        .order_by("starts_at")
        .first()
    )


def offer_text(offer: Offer) -> str:
    """The numbered slots and how to pick one (active language)."""
    lines = [
        gettext("I can book you in for %(service)s at %(location)s:")
        % {"service": offer.service.name, "location": offer.location.name}
    ]
    for number, slot in enumerate(offer.slots, start=1):
        draft = Appointment(location=offer.location, starts_at=slot.starts_at)
        lines.append(f"{number}. {when_text(draft)}")
    lines.append(
        gettext("Reply with the number of the slot you want (1 to %(count)d) and it is booked.")
        % {"count": len(offer.slots)}
    )
    return "\n".join(lines)


def existing_booking_text(appointment: Appointment) -> str:
    return gettext(
        "You already have an appointment: %(line)s. To check in, change or cancel it: %(link)s"
    ) % {"line": appointment_line(appointment), "link": manage_url(appointment)}


def chosen_slot(details: dict, text: str) -> datetime | None:
    """The offered slot the customer's answer names ("2", "le 2"…), or None."""
    slots = details.get("slots") if isinstance(details, dict) else None
    words = [w.strip(".,!)#°") for w in text.split()]
    numbers = [int(w) for w in words if w.isdigit()]
    if not isinstance(slots, list) or len(numbers) != 1 or not 1 <= numbers[0] <= len(slots):
        return None
    starts_at = parse_datetime(str(slots[numbers[0] - 1]))
    return starts_at if starts_at is not None and not timezone.is_naive(starts_at) else None


def book_offered(customer: Customer, details: dict, starts_at: datetime) -> Appointment:
    """Book the slot the customer picked from the offer (BookingError: taken meanwhile)."""
    location = Location.objects.filter(
        pk=details.get("location_id"), brand_id=customer.brand_id
    ).first()
    service = Service.objects.filter(
        pk=details.get("service_id"), brand_id=customer.brand_id
    ).first()
    if location is None or service is None:
        raise actions.BookingError(gettext("This slot is no longer available."))
    return actions.book_appointment(location, service, starts_at, customer=customer, actor=BOT)


def booked_text(appointment: Appointment) -> str:
    """The assistant's answer; the confirmation with the signed link follows (``tasks``)."""
    return gettext("It is booked: %(line)s.") % {"line": appointment_line(appointment)}
