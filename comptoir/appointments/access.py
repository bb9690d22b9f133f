"""Permission-checked fetches of locations, services, appointments and devices.

See ``tenancy.access``: 403 below the required role (checked first), 404 for
anything outside the agent's brand.
"""

from django.http import Http404

from comptoir.appointments.models import Appointment, Device, Location, Resource, Service
from comptoir.tenancy.access import check_role, row_id
from comptoir.tenancy.models import Membership, Role


def access_location(
    membership: Membership, location_id: int | str, *, require_role: str = Role.AGENT
) -> Location:
    check_role(membership, require_role)
    try:
        return Location.objects.select_related("calendar").get(
            pk=row_id(location_id), brand_id=membership.brand_id
        )
    except Location.DoesNotExist:
        raise Http404("No such location.") from None


def access_service(
    membership: Membership, service_id: int | str, *, require_role: str = Role.AGENT
) -> Service:
    check_role(membership, require_role)
    try:
        return Service.objects.get(pk=row_id(service_id), brand_id=membership.brand_id)
    except Service.DoesNotExist:
        raise Http404("No such service.") from None


def access_appointment(
    membership: Membership, appointment_id: int | str, *, require_role: str = Role.AGENT
) -> Appointment:
    check_role(membership, require_role)
    try:
        return Appointment.objects.select_related(
            "location__calendar", "service", "customer", "device", "served_by__user"
        ).get(pk=row_id(appointment_id), brand_id=membership.brand_id)
    except Appointment.DoesNotExist:
        raise Http404("No such appointment.") from None


def access_device(
    membership: Membership, device_id: int | str, *, require_role: str = Role.AGENT
) -> Device:
    check_role(membership, require_role)
    try:
        return Device.objects.select_related("customer").get(
            pk=row_id(device_id), brand_id=membership.brand_id
        )
    except Device.DoesNotExist:
        raise Http404("No such device.") from None


def access_resource(
    membership: Membership, resource_id: int | str, *, require_role: str = Role.ADMIN
) -> Resource:
    """A staff member's place at a location (set-up: administrators by default)."""
    check_role(membership, require_role)
    try:
        return Resource.objects.select_related("location__calendar", "membership__user").get(
            pk=row_id(resource_id), location__brand_id=membership.brand_id
        )
    except Resource.DoesNotExist:
        raise Http404("No such staff member.") from None
