"""Setting up in-person service: locations, their staff, services (administrators, the demo).

A location's opening hours are a business calendar of ``sla``: the brand's
default one, or (usually) the calendar of the team working at the shop, so
that the shop's holidays are entered once and count for its SLAs too.
"""

from datetime import datetime, time

from django.db import transaction

from comptoir.appointments.models import Absence, Location, Resource, Service, WorkingHours
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


def set_working_hours(resource: Resource, week: dict[int, list[tuple[time, time]]]) -> None:
    """Replace a staff member's weekly hours (weekday 0 = Monday; an end of 00:00 = midnight).

    An empty week: at work whenever the location is open.
    """
    rows = []
    for weekday, intervals in week.items():
        if not 0 <= weekday <= 6:
            raise ValueError("a weekday is 0 (Monday) to 6 (Sunday)")
        for starts, ends in intervals:
            if ends != time(0) and ends <= starts:
                raise ValueError("a shift ends after it starts")
            rows.append(WorkingHours(resource=resource, weekday=weekday, starts=starts, ends=ends))
    with transaction.atomic():
        resource.hours.all().delete()
        WorkingHours.objects.bulk_create(rows)


def add_absence(
    resource: Resource, starts_at: datetime, ends_at: datetime, *, reason: str = ""
) -> Absence:
    if ends_at <= starts_at:
        raise ValueError("an absence ends after it starts")
    return Absence.objects.create(
        resource=resource, starts_at=starts_at, ends_at=ends_at, reason=reason[:120]
    )
