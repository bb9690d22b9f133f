"""The waiting room: a customer's place and estimated wait, and what the lobby screen shows.

The wait is the routing estimator's queue-length prediction
(``routing.waits.queue_length_wait``): with ``servers`` staff at the location
serving one customer each, a customer with ``position`` people ahead waits for
``position + 1`` services to end, each of the average length of the services
of those ahead.
"""

from dataclasses import dataclass

from comptoir.appointments.actions import waiting_queue
from comptoir.appointments.models import Appointment, AppointmentStatus, Location
from comptoir.routing.waits import queue_length_wait


@dataclass(frozen=True)
class Place:
    position: int  # people ahead (0: next)
    wait_seconds: int


def servers_at(location: Location) -> int:
    return max(1, location.resources.count())


def places(queue: list[Appointment], servers: int) -> list[Place]:
    """The place and wait of each customer of ``queue`` (in its order), without queries."""
    result = []
    total_minutes = 0
    for position, appointment in enumerate(queue):
        total_minutes += appointment.service.duration_minutes
        handle = total_minutes * 60 / (position + 1)
        # Nobody ahead: no wait to announce beyond "you are next".
        wait = round(queue_length_wait(position, servers, handle)) if position else 0
        result.append(Place(position, wait))
    return result


def place_of(appointment: Appointment) -> Place | None:
    """Where a checked-in customer stands (None once called, served or gone)."""
    if appointment.status != AppointmentStatus.CHECKED_IN:
        return None
    queue = waiting_queue(appointment.location)
    ids = [a.pk for a in queue]
    if appointment.pk not in ids:
        return None
    return places(queue, servers_at(appointment.location))[ids.index(appointment.pk)]


def lobby_of(location: Location) -> dict:
    """The lobby screen: tickets called (latest first) and waiting, first names only."""
    called = list(
        Appointment.objects.filter(location=location, status=AppointmentStatus.CALLED)
        .order_by("-called_at")
        .only("first_name", "ticket", "desk", "called_at")[:8]
    )
    return {"called": called, "waiting": waiting_queue(location)}
