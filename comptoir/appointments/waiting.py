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


def place_of(appointment: Appointment) -> Place | None:
    """Where a checked-in customer stands (None once called, served or gone)."""
    if appointment.status != AppointmentStatus.CHECKED_IN:
        return None
    queue = waiting_queue(appointment.location)
    ids = [a.pk for a in queue]
    if appointment.pk not in ids:
        return None
    position = ids.index(appointment.pk)
    ahead = queue[: position + 1]
    handle = sum(a.service.duration_minutes for a in ahead) * 60 / len(ahead)
    wait = queue_length_wait(position, servers_at(appointment.location), handle)
    # Nobody ahead and a free desk: no wait to announce beyond "you are next".
    return Place(position, round(wait) if position else 0)


def lobby_of(location: Location) -> dict:
    """The lobby screen: tickets called (latest first) and waiting, first names only."""
    called = list(
        Appointment.objects.filter(location=location, status=AppointmentStatus.CALLED)
        .order_by("-called_at")
        .only("first_name", "ticket", "desk", "called_at")[:8]
    )
    return {"called": called, "waiting": waiting_queue(location)}
