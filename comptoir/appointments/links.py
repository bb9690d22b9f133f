"""The signed link a customer manages their appointment with (and checks in by, as a QR code).

The token names the appointment and is signed with the project's secret
(``django.core.signing``): it cannot be guessed or altered. It does not expire:
what it allows depends on the booking's state (a served booking cannot be
cancelled), and it only ever shows that one booking.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from comptoir.appointments.models import Appointment

SALT = "comptoir.appointments.manage"


def manage_token(appointment: Appointment) -> str:
    """The same token every time for one booking (no timestamp): messages stay identical."""
    return signing.Signer(salt=SALT).sign_object({"a": appointment.pk, "r": appointment.reference})


def appointment_for_token(token: str) -> Appointment | None:
    """The appointment a token names, or None (forged, altered, or its booking is gone)."""
    try:
        data = signing.Signer(salt=SALT).unsign_object(token)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return (
        Appointment.objects.select_related(
            "brand", "location__calendar", "service", "customer", "device"
        )
        .filter(pk=data.get("a"), reference=data.get("r"))
        .first()
    )


def manage_path(appointment: Appointment) -> str:
    return reverse("appointments:manage", kwargs={"token": manage_token(appointment)})


def manage_url(appointment: Appointment) -> str:
    """The absolute link sent to the customer (``settings.PUBLIC_URL``)."""
    return settings.PUBLIC_URL + manage_path(appointment)
