"""The words of appointments: a booking in one line, and the messages sent to the customer.

Times are shown in the location's time zone (not the reader's), because that is
where the customer has to be. Callers choose the language (``translation.override``).
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import formats
from django.utils.dateparse import parse_date
from django.utils.translation import gettext

from comptoir.appointments.models import Appointment


def day_or_none(value: object) -> date | None:
    """A YYYY-MM-DD day from a query or a body; None when absent or not a real date."""
    try:
        day = parse_date(str(value or ""))
    except ValueError:  # well formed but impossible: 2031-02-30
        return None
    # Far from any bookable day (9999-12-31 would overflow the day after).
    return day if day is not None and date(2000, 1, 1) <= day <= date(9000, 1, 1) else None


def local_day(at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants where the local day of ``at`` in ``zone`` begins and ends."""
    day = at.astimezone(zone).date()
    start = datetime.combine(day, time(0)).replace(tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0)).replace(tzinfo=zone)
    return start, end


def local_time(appointment: Appointment, at: datetime | None = None) -> datetime:
    """``at`` (the appointment's start by default) in its location's time zone."""
    zone = ZoneInfo(appointment.location.calendar.time_zone)
    return (at or appointment.starts_at).astimezone(zone)


def when_text(appointment: Appointment, at: datetime | None = None) -> str:
    """The start (or ``at``) as "Tuesday 9 December 2031, 10:00": active language, local time."""
    local = local_time(appointment, at)
    return f"{formats.date_format(local, 'l j F Y')}, {formats.time_format(local, 'H:i')}"


def appointment_line(appointment: Appointment) -> str:
    """The booking in one line: service, when, where, reference."""
    return gettext("%(service)s, %(when)s at %(location)s (ref. %(reference)s)") % {
        "service": appointment.service.name,
        "when": when_text(appointment),
        "location": appointment.location.name,
        "reference": appointment.reference,
    }


def customer_message(appointment: Appointment, purpose: str, link: str) -> str:
    """The confirmation, change notice or reminder sent on the customer's channel."""
    line = appointment_line(appointment)
    if purpose == "confirmation":
        head = gettext("Your appointment is booked: %(line)s.") % {"line": line}
    elif purpose == "rescheduled":
        head = gettext("Your appointment has moved: %(line)s.") % {"line": line}
    elif purpose == "day_before":
        head = gettext("Reminder: your appointment is tomorrow: %(line)s.") % {"line": line}
    else:
        head = gettext("Reminder: your appointment is in one hour: %(line)s.") % {"line": line}
    address = appointment.location.address.strip()
    parts = [head]
    if address:
        parts.append(gettext("Address: %(address)s") % {"address": address})
    parts.append(
        gettext("To check in on arrival, change or cancel your appointment: %(link)s")
        % {"link": link}
    )
    if purpose == "confirmation":
        parts.append(gettext("Your check-in QR code: %(link)s") % {"link": link + "qr.svg"})
    return "\n".join(parts)


def observation_notice(appointment: Appointment, follow_up_at: datetime) -> str:
    """What the customer is told when their device is kept under observation."""
    return gettext(
        "We are keeping your device under observation and will contact you on %(when)s."
    ) % {"when": when_text(appointment, follow_up_at)}
