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


def staff_at(location: Location) -> tuple[int, int]:
    """(staff at the location, those serving nobody now): what ``places`` needs."""
    servers = servers_at(location)
    serving = Appointment.objects.filter(location=location, status=AppointmentStatus.CALLED)
    return servers, max(servers - serving.count(), 0)


def places(queue: list[Appointment], servers: int, free: int = 0) -> list[Place]:
    """The place and wait of each customer of ``queue`` (in its order), without queries.

    ``free``: staff serving nobody now; the first ``free`` in line are about to be
    called (no wait). Behind them, a customer waits for the services in progress
    and those ahead to end (``bench/walk_in.py`` measures the estimate).
    """
    result = []
    total_minutes = 0
    for position, appointment in enumerate(queue):
        total_minutes += appointment.service.duration_minutes
        handle = total_minutes * 60 / (position + 1)
        behind_free = position - free
        wait = round(queue_length_wait(behind_free, servers, handle)) if behind_free >= 0 else 0
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
    return places(queue, *staff_at(appointment.location))[ids.index(appointment.pk)]


def lobby_of(location: Location) -> dict:
    """The lobby screen: tickets called (latest first) and waiting, first names only."""
    called = list(
        Appointment.objects.filter(location=location, status=AppointmentStatus.CALLED)
        .order_by("-called_at")
        .only("first_name", "ticket", "desk", "called_at")[:8]
    )
    return {"called": called, "waiting": waiting_queue(location)}
