"""Building an in-person set-up for tests through ``appointments.configure`` and the actions."""

from datetime import time

from comptoir.appointments import configure
from comptoir.appointments.models import Location, Service
from comptoir.sla import configure as sla_configure
from comptoir.tenancy.models import Brand, Team

# Monday to Saturday, 10:00-13:00 and 14:00-19:00.
SHOP_DAY = [(time(10), time(13)), (time(14), time(19))]


def shop(brand: Brand, name: str = "Boutique Opéra", zone: str = "Europe/Paris") -> Location:
    """A shop open Monday to Saturday on its team's own calendar."""
    team = Team.objects.create(brand=brand, name=f"Équipe {name}")
    calendar = sla_configure.save_calendar(brand, f"Horaires {name}", zone, team=team)
    sla_configure.set_week(calendar, {day: SHOP_DAY for day in range(6)})
    return configure.save_location(brand, name, calendar, address="1 place de l'Opéra, Paris")


def diagnosis(brand: Brand, *, capacity: int = 1, minutes: int = 30, skills=()) -> Service:
    return configure.save_service(
        brand,
        "Diagnostic smartphone",
        "Smartphone diagnosis",
        duration_minutes=minutes,
        capacity=capacity,
        skills=list(skills),
    )
