"""Walk-in benchmark: the wait a shop's waiting room tells, against the wait that follows.

A discrete-event simulation of one location's queue: walk-ins arrive as a Poisson
process, each for one of the demo's services (a 20-minute diagnostic or a 45-minute
screen repair, two in three diagnostics), served first come, first served by
``--staff`` people; service times are drawn around the service's duration
(exponential, or ``--spread lognormal`` with a coefficient of variation of 0.5,
closer to a repair bench). Each arrival who has to wait is told the production
estimate, ``appointments.waiting.places`` (the routing estimator's queue-length
prediction over the durations of those ahead), and the wait that follows is
recorded. The baseline, computed in the same run on the same arrivals, is the
last-to-enter-service predictor (``routing.waits.last_to_enter_service_wait``:
"the last customer called waited this long").

    .venv/bin/python bench/walk_in.py
    .venv/bin/python bench/walk_in.py --staff 3 --load 0.9 --spread lognormal

Prints ``told wait mae: <s> s``, ``les mae: <s> s`` and ``ratio: <x>`` (told ÷ LES),
with context lines.
"""

import argparse
import heapq
import math
import os
import platform
import random
import statistics
import sys
from collections import deque
from pathlib import Path

from bench_secret import ensure_secret_key

SERVICES = ((20, 2 / 3), (45, 1 / 3))  # (minutes, share of walk-ins)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arrivals", type=int, default=20000)
    parser.add_argument("--staff", type=int, default=2)
    parser.add_argument("--load", type=float, default=0.85, help="utilisation of the staff")
    parser.add_argument("--spread", choices=("exponential", "lognormal"), default="exponential")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    os.environ.setdefault("DATABASE_URL", "sqlite:///var/bench/walk_in.sqlite3")
    ensure_secret_key()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import django

    django.setup()


def draw_service(rng: random.Random, minutes: int, spread: str) -> float:
    mean = minutes * 60
    if spread == "exponential":
        return rng.expovariate(1 / mean)
    sigma = 0.47  # coefficient of variation 0.5
    return rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)


def simulate(arguments: argparse.Namespace) -> dict:
    """Both predictors' absolute errors over every walk-in who had to wait."""
    from comptoir.appointments.models import Appointment, Service
    from comptoir.appointments.waiting import places
    from comptoir.routing.waits import last_to_enter_service_wait

    rng = random.Random(arguments.seed)
    services = {minutes: Service(duration_minutes=minutes) for minutes, _ in SERVICES}
    mean_service = sum(minutes * share for minutes, share in SERVICES) * 60
    arrival_rate = arguments.load * arguments.staff / mean_service
    clock, free_staff = 0.0, arguments.staff
    ends: list[float] = []  # service ends, a heap
    queue: deque = deque()  # (arrival time, Appointment, drawn service seconds, told, les)
    recent_waits: list[float] = []
    told_errors, les_errors, waits = [], [], []
    next_arrival, arrived = rng.expovariate(arrival_rate), 0

    def start_service(now: float) -> None:
        nonlocal free_staff
        arrival, _, seconds, told, les = queue.popleft()
        waited = now - arrival
        waits.append(waited)
        if told is not None:
            told_errors.append(abs(told - waited))
            les_errors.append(abs(les - waited))
        recent_waits.append(waited)
        free_staff -= 1
        heapq.heappush(ends, now + seconds)

    while arrived < arguments.arrivals or queue or ends:
        if arrived < arguments.arrivals and (not ends or next_arrival <= ends[0]):
            clock = next_arrival
            arrived += 1
            minutes = rng.choices([m for m, _ in SERVICES], [s for _, s in SERVICES])[0]
            appointment = Appointment(service=services[minutes])
            seconds = draw_service(rng, minutes, arguments.spread)
            told = les = None
            if free_staff == 0:  # has to wait: told where they stand
                line = [entry[1] for entry in queue] + [appointment]
                told = places(line, arguments.staff)[-1].wait_seconds
                les = last_to_enter_service_wait(recent_waits) or 0.0
            queue.append((clock, appointment, seconds, told, les))
            if free_staff > 0:
                start_service(clock)
            next_arrival = clock + rng.expovariate(arrival_rate)
        else:
            clock = heapq.heappop(ends)
            free_staff += 1
            if queue:
                start_service(clock)
    return {
        "told": statistics.fmean(told_errors),
        "les": statistics.fmean(les_errors),
        "waited": len(told_errors),
        "mean_wait": statistics.fmean(waits),
    }


def main() -> None:
    arguments = parse_arguments()
    Path("var/bench").mkdir(parents=True, exist_ok=True)
    setup_django()
    print(
        f"walk-in: {arguments.arrivals} customers, {arguments.staff} staff, load {arguments.load},"
        f" {arguments.spread} service times, seed {arguments.seed};"
        f" Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    result = simulate(arguments)
    print(f"waited: {result['waited']} customers, mean wait {result['mean_wait']:.0f} s")
    print(f"told wait mae: {result['told']:.0f} s (appointments.waiting.places)")
    print(f"les mae: {result['les']:.0f} s (last to enter service, same arrivals)")
    print(f"ratio: {result['told'] / result['les']:.2f}")


if __name__ == "__main__":
    main()
