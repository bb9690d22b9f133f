"""Setting up in-person service: locations, their staff, services (administrators, the demo).

A location's opening hours are a business calendar of ``sla``: the brand's
default one, or (usually) the calendar of the team working at the shop, so
that the shop's holidays are entered once and count for its SLAs too.
"""

from django.db import transaction

from comptoir.appointments.models import Location, Resource, Service
from comptoir.routing.models import Skill
from comptoir.sla.models import BusinessCalendar
from comptoir.tenancy.models import Brand, Membership


def save_location(
    brand: Brand, name: str, calendar: BusinessCalendar, *, address: str = ""
) -> Location:
    if calendar.brand_id != brand.pk:
        raise ValueError("a location opens on a calendar of its own brand")
    location, _ = Location.objects.update_or_create(
        brand=brand, name=name, defaults={"calendar": calendar, "address": address}
    )
    return location


def add_staff(location: Location, membership: Membership, *, desk: str = "") -> Resource:
    if membership.brand_id != location.brand_id:
        raise ValueError("only the brand's agents work at its locations")
    resource, _ = Resource.objects.update_or_create(
        location=location, membership=membership, defaults={"desk": desk}
    )
    return resource


def save_service(
    brand: Brand,
    name_fr: str,
    name_en: str,
    *,
    duration_minutes: int = 30,
    capacity: int = 1,
    skills: list[Skill] = (),
) -> Service:
    if any(skill.brand_id != brand.pk for skill in skills):
        raise ValueError("a service needs skills of its own brand")
    with transaction.atomic():
        service, _ = Service.objects.update_or_create(
            brand=brand,
            name_en=name_en,
            defaults={
                "name_fr": name_fr,
                "duration_minutes": duration_minutes,
                "capacity": capacity,
            },
        )
        service.skills.set(skills)
    return service
