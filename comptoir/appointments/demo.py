"""The demo brand's shop: a location, two services, staff, bookings and devices with history.

Idempotent: nothing is added once the brand has a location. Bookings take the
next free slots from now, so the demo always has an agenda ahead.
"""

from datetime import time, timedelta

from django.utils import timezone

from comptoir.appointments import configure
from comptoir.appointments.actions import (
    add_walk_in,
    available_slots,
    book_appointment,
    call_appointment,
    serve_appointment,
)
from comptoir.appointments.models import Device, Location, Outcome
from comptoir.customers.models import Customer
from comptoir.sla import configure as sla_configure
from comptoir.sla.models import BusinessCalendar
from comptoir.tenancy.models import Brand, Membership, Team

SHOP_DAY = [(time(10), time(13)), (time(14), time(19))]
# (customer's name, serial number, maker, model, problem)
DEMO_BOOKINGS = [
    ("Léa", "F2LXK0QJHG7F", "Apple", "iPhone 13", "L'écran ne répond plus par endroits."),
    ("Thomas", "R58N91ABCDE", "Samsung", "Galaxy S22", "La batterie se vide en une matinée."),
]


def ensure_demo_appointments(brand: Brand, agents: dict[str, Membership], shops: Team) -> None:
    if Location.objects.filter(brand=brand).exists():
        return
    calendar = BusinessCalendar.objects.filter(team=shops).first()
    if calendar is None:
        calendar = sla_configure.save_calendar(
            brand, "Horaires des boutiques", "Europe/Paris", team=shops
        )
        sla_configure.set_week(calendar, {day: SHOP_DAY for day in range(6)})
    location = configure.save_location(
        brand, "Boutique Opéra", calendar, address="12 boulevard des Capucines, 75009 Paris"
    )
    configure.add_staff(location, agents["julien"], desk="Comptoir 1")
    configure.add_staff(location, agents["sophie"], desk="Comptoir 2")
    diagnosis = configure.save_service(
        brand, "Diagnostic smartphone", "Smartphone diagnosis", duration_minutes=30, capacity=2
    )
    configure.save_service(
        brand, "Réparation écran", "Screen repair", duration_minutes=60, capacity=1
    )
    now = timezone.now()
    slots = available_slots(location, diagnosis, now, now + timedelta(days=7))
    for (name, serial, maker, model, problem), slot in zip(DEMO_BOOKINGS, slots, strict=False):
        customer = Customer.objects.filter(
            brand=brand, display_name__startswith=name, merged_into__isnull=True
        ).first()
        if customer is None:
            continue
        Device.objects.get_or_create(
            brand=brand,
            serial_number=serial,
            defaults={"customer": customer, "maker": maker, "model": model},
        )
        # A first visit already served (the device's history), then the booking ahead.
        visit = add_walk_in(
            location, diagnosis, by=agents["julien"], customer=customer, serial_number=serial
        )
        call_appointment(visit, agents["julien"])
        serve_appointment(
            visit,
            agents["julien"],
            outcome=Outcome.OBSERVATION,
            diagnosis="Gardé en observation : nous rappelons le client demain.",
        )
        book_appointment(
            location,
            diagnosis,
            slot.starts_at,
            customer=customer,
            serial_number=serial,
            problem=problem,
        )
