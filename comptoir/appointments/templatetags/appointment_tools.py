"""The customer page's in-person part: their appointments and devices (two queries)."""

from django import template

from comptoir.appointments.models import Appointment, Device
from comptoir.customers.models import Customer

register = template.Library()

# The customer page lists this many latest appointments.
APPOINTMENTS_SHOWN = 5


@register.simple_tag
def customer_visits(customer: Customer) -> dict:
    return {
        "appointments": list(
            Appointment.objects.filter(customer=customer)
            .select_related("location", "service")
            .order_by("-starts_at", "-pk")[:APPOINTMENTS_SHOWN]
        ),
        "devices": list(Device.objects.filter(customer=customer).order_by("serial_number")),
    }
