"""The router's one clock: every decision reads the time here, or takes ``now`` from its caller.

A discrete-event simulation (``bench/routing.py``) passes its simulated ``now``
to ``assign_next`` and ``route_to_person`` instead; nothing in the router sleeps
or reads the wall clock behind its back.
"""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
