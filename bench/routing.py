"""Routing benchmark: the production router in a discrete-event simulation, against the theory.

Poisson arrivals of chat conversations, exponential handle times, ``--agents`` agents
who hold ``--capacity`` chats at once (each chat a server of Erlang C), a share of
returning customers with their own advisor.
Every decision is the production code's (``routing.router.queue_conversation`` and
``assign_next`` at the simulated ``now``, on a real database); every waiting
customer is told ``routing.estimates.estimate_wait``. The baseline is Erlang C for
the same staffing: pooled M/M/c, the best average speed of answer any router can
reach without affinity. Runs once with affinity off, once on.

    .venv/bin/python bench/routing.py                          # SQLite file under var/bench
    .venv/bin/python bench/routing.py --arrivals 6000 --agents 12 --load 0.85
    .venv/bin/python bench/routing.py --database-url postgres://postgres@127.0.0.1:5432/x

Prints, per run, ``router asa: <s>``, ``erlang c asa: <s>``, ``asa ratio: <x>``,
``service level 20s: <percent>``, ``advisor continuity: <percent>`` and
``wait estimate mae: <s>``, with context lines.
"""

from __future__ import annotations

import argparse
import heapq
import os
import platform
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bench_secret import ensure_secret_key

if TYPE_CHECKING:
    from comptoir.routing.estimates import WaitEstimate

DEFAULT_DATABASE_URL = "sqlite:///var/bench/routing.sqlite3"
SWEEP_SECONDS = 10  # the production sweep's period (ROUTING_SWEEP_CRON)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arrivals", type=int, default=4000, help="conversations per run")
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument(
        "--capacity", type=int, default=3, help="chats an agent holds at once (product default: 3)"
    )
    parser.add_argument(
        "--load", type=float, default=0.85, help="utilisation: λ·h / (agents · capacity)"
    )
    parser.add_argument(
        "--advisor-wait",
        type=int,
        default=20,
        help="extra wait for a busy advisor while a slot elsewhere is free (s, default: product's)",
    )
    parser.add_argument(
        "--advisor-line-wait",
        type=int,
        default=300,
        help="wait for a busy advisor while others behind take the free slots (s, 0: never)",
    )
    parser.add_argument("--handle", type=float, default=300, help="mean handle time (s)")
    parser.add_argument(
        "--returning", type=float, default=0.3, help="share of arrivals with an advisor"
    )
    parser.add_argument("--warm-up", type=float, default=0.1, help="share of arrivals ignored")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help=f"default: {DEFAULT_DATABASE_URL}")
    parser.add_argument(
        "--affinity",
        choices=["off", "on", "both"],
        default="both",
        help="which runs: without the advisor, with it, or both (default)",
    )
    return parser.parse_args()


def configure_environment(database_url: str | None) -> str:
    url = database_url or DEFAULT_DATABASE_URL
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ["DEBUG"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    ensure_secret_key()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return url


@dataclass
class Outcome:
    waits: list[float] = field(default_factory=list)
    returning_served: int = 0
    returning_by_advisor: int = 0
    # Per predictor, its errors over the customers every predictor had a figure for.
    estimate_errors: dict[str, list[float]] = field(default_factory=dict)
    decisions: int = 0
    seconds: float = 0.0


def servers(arguments: argparse.Namespace) -> int:
    """Chats handled at once by the whole team: Erlang C's servers."""
    return arguments.agents * arguments.capacity


def arrival_rate(arguments: argparse.Namespace) -> float:
    return arguments.load * servers(arguments) / arguments.handle


def draw_arrivals(arguments: argparse.Namespace) -> list[tuple[float, float]]:
    """Poisson arrival times and each customer's exponential handle time, from the seed."""
    rng = random.Random(arguments.seed)
    clock = 0.0
    drawn = []
    for _ in range(arguments.arrivals):
        clock += rng.expovariate(arrival_rate(arguments))
        drawn.append((clock, rng.expovariate(1 / arguments.handle)))
    return drawn


def ideal_waits(arguments: argparse.Namespace) -> list[float]:
    """The waits of an ideal first-come-first-served M/M/c line on the same draws.

    Each customer goes to the agent free soonest, the moment one is: what a perfect
    router without affinity does. Waits after warm-up, like the router's.
    """
    free_at = [0.0] * servers(arguments)
    waits = []
    for arrival, handle in draw_arrivals(arguments):
        begins = max(arrival, heapq.heappop(free_at))
        waits.append(begins - arrival)
        heapq.heappush(free_at, begins + handle)
    return waits[int(arguments.arrivals * arguments.warm_up) :]


def predict_waits(
    told: WaitEstimate | None, waited_so_far: list[float], last_entered_wait: list[float]
) -> dict[str, float]:
    """A newcomer's wait by each predictor; empty unless every one of them has a figure.

    ``told``: what production tells the customer (the queue-length predictor of
    ``routing.estimates``); the two recent-delay predictors of ``routing.waits``
    for comparison: LES (the last customer served's wait) and HOL (from how long
    the head of the line has waited). ``waited_so_far`` includes the newcomer's 0.
    """
    from comptoir.routing.waits import head_of_line_wait, last_to_enter_service_wait

    ahead = len(waited_so_far) - 1
    predicted = {
        "queue length (told)": told.seconds if told is not None else None,
        "les": last_to_enter_service_wait(last_entered_wait),
        "hol": head_of_line_wait(max(waited_so_far), ahead) if ahead else None,
    }
    if any(value is None for value in predicted.values()):
        return {}
    return predicted


def simulate(arguments: argparse.Namespace, *, affinity: bool) -> Outcome:
    """One run on a fresh brand; returns the waits after warm-up and the other figures."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from comptoir.conversations.models import Channel, Conversation, Status
    from comptoir.customers.models import Customer
    from comptoir.routing.estimates import estimate_wait, forget_handle_times
    from comptoir.routing.models import AdvisorMode, RoutingSettings
    from comptoir.routing.router import assign_next, queue_conversation
    from comptoir.routing.rules import forget_routing_cache
    from comptoir.tenancy.models import Availability, Brand, Membership, Team

    arrivals = draw_arrivals(arguments)  # the same arrivals and handle times for both runs
    rng = random.Random(arguments.seed + 1)  # who returns, and which regular
    suffix = uuid.uuid4().hex[:10]
    brand = Brand.objects.create(name=f"routing bench {suffix}", slug=f"routing-{suffix}")
    RoutingSettings.objects.create(
        brand=brand,
        advisor_mode=AdvisorMode.NAMED if affinity else AdvisorMode.OFF,
        advisor_wait_seconds=arguments.advisor_wait,
        advisor_line_wait_seconds=arguments.advisor_line_wait,
        chat_capacity=arguments.capacity,
    )
    forget_routing_cache()
    forget_handle_times()
    team = Team.objects.create(brand=brand, name="Chat", auto_assign=True)
    forever = datetime(2100, 1, 1, tzinfo=UTC)  # consoles open for the whole simulation
    users = get_user_model()
    agents = []
    for number in range(arguments.agents):
        user = users.objects.create_user(username=f"bench-{suffix}-{number}")
        agents.append(
            Membership.objects.create(
                user=user, brand=brand, availability=Availability.AVAILABLE, last_seen_at=forever
            )
        )
    team.members.add(*agents)
    # Returning customers: each has an advisor, spread evenly over the agents.
    regulars = [
        Customer.objects.create(
            brand=brand, display_name=f"regular {n}", advisor=agents[n % len(agents)]
        )
        for n in range(max(1, arguments.agents * 20))
    ]

    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    events: list[tuple[float, int, str, int]] = []  # (time, tie-breaker, kind, conversation id)
    sequence = 0

    def schedule(at: float, kind: str, conversation_id: int = 0) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (at, sequence, kind, conversation_id))

    arrival_times: dict[int, float] = {}
    estimates: dict[int, dict[str, float]] = {}  # per waiting customer, per predictor
    waiting_since: dict[int, float] = {}  # conversations not yet given to an agent
    last_entered_wait: list[float] = []  # LES: the wait of the last customer served
    advisors: dict[int, int] = {}
    open_regulars: set[int] = set()
    counted_from = int(arguments.arrivals * arguments.warm_up)
    index_of: dict[int, int] = {}
    outcome = Outcome()

    customers_of: dict[int, int] = {}

    def decide(now: float) -> int:
        """Run the router at ``now``; how many conversations it gave out."""
        decisions = assign_next(brand.pk, now=start + timedelta(seconds=now))
        for decision in decisions:
            outcome.decisions += 1
            conversation_id = decision.conversation_id
            waited = now - arrival_times[conversation_id]
            waiting_since.pop(conversation_id)
            last_entered_wait[:] = [waited]
            handle = arrivals[index_of[conversation_id]][1]
            schedule(now + handle, "departure", conversation_id)
            if index_of[conversation_id] < counted_from:
                continue
            outcome.waits.append(waited)
            for predictor, estimate in estimates.get(conversation_id, {}).items():
                outcome.estimate_errors.setdefault(predictor, []).append(abs(estimate - waited))
            if conversation_id in advisors:
                outcome.returning_served += 1
                outcome.returning_by_advisor += decision.assignee_id == advisors[conversation_id]
        return len(decisions)

    for number, (arrival, _handle) in enumerate(arrivals):
        schedule(arrival, "arrival", number)
    schedule(0.0, "sweep")
    in_service = 0  # conversations being handled (for the reader; the heap drives the run)
    began = time.perf_counter()
    while events:
        now, _, kind, key = heapq.heappop(events)
        moment = start + timedelta(seconds=now)
        if kind == "arrival":
            returning = rng.random() < arguments.returning
            free_regulars = [c for c in regulars if c.pk not in open_regulars]
            if returning and free_regulars:
                customer = rng.choice(free_regulars)
                open_regulars.add(customer.pk)
            else:
                customer = Customer.objects.create(brand=brand, display_name=f"visitor {key}")
            with transaction.atomic():
                conversation = Conversation.objects.create(
                    brand=brand,
                    customer=customer,
                    team=team,
                    channel=Channel.WEBCHAT,
                    created_at=moment,
                    last_message_at=moment,
                )
                queue_conversation(conversation, team=team, now=moment)
            arrival_times[conversation.pk] = now
            waiting_since[conversation.pk] = now
            index_of[conversation.pk] = key
            customers_of[conversation.pk] = customer.pk
            if customer.advisor_id is not None:
                advisors[conversation.pk] = customer.advisor_id
            in_service += decide(now)
            if conversation.pk in waiting_since:
                predicted = predict_waits(
                    estimate_wait(conversation.pk, now=moment),
                    [now - since for since in waiting_since.values()],
                    last_entered_wait,
                )
                if predicted:
                    estimates[conversation.pk] = predicted
        elif kind == "departure":
            in_service -= 1
            Conversation.objects.filter(pk=key).update(status=Status.RESOLVED, resolved_at=moment)
            open_regulars.discard(customers_of[key])
            in_service += decide(now)
        elif kind == "sweep":
            in_service += decide(now)
            if len(events) > 0:  # arrivals or departures still to come
                schedule(now + SWEEP_SECONDS, "sweep")
    outcome.seconds = time.perf_counter() - began
    return outcome


def report(label: str, outcome: Outcome, arguments: argparse.Namespace) -> None:
    from comptoir.routing.waits import average_speed_of_answer, service_level

    rate = arrival_rate(arguments)
    theory = average_speed_of_answer(servers(arguments), rate, arguments.handle)
    theory_level = service_level(servers(arguments), rate, arguments.handle, 20)
    asa = statistics.fmean(outcome.waits)
    ideal = statistics.fmean(ideal_waits(arguments))
    within = sum(w <= 20 for w in outcome.waits) / len(outcome.waits)
    continuity = (
        outcome.returning_by_advisor / outcome.returning_served if outcome.returning_served else 0
    )
    print(f"--- {label} ---")
    print(
        f"customers counted: {len(outcome.waits)} (after warm-up), decisions: {outcome.decisions}"
    )
    print(f"router asa: {asa:.1f} s")
    print(f"erlang c asa: {theory:.1f} s")
    print(f"asa ratio: {asa / theory:.2f}")
    print(f"ideal line asa: {ideal:.1f} s (first come, first served on the same draws)")
    print(f"asa ratio to ideal line: {asa / ideal:.2f}" if ideal else "asa ratio to ideal line: -")
    print(f"service level 20s: {within:.1%} (erlang c: {theory_level:.1%})")
    print(f"advisor continuity: {continuity:.1%} ({outcome.returning_served} returning)")
    for predictor, errors in outcome.estimate_errors.items():
        label = "wait estimate mae" if predictor.endswith("(told)") else f"{predictor} mae"
        print(f"{label}: {statistics.fmean(errors):.1f} s ({predictor}, {len(errors)} waiting)")
    print(f"simulation: {outcome.seconds:.1f} s of real time")


def main() -> None:
    arguments = parse_arguments()
    url = configure_environment(arguments.database_url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; database: {url.split('://')[0]}"
    )
    print(
        f"staffing: {arguments.agents} agents, {arguments.capacity} chats each; "
        f"load {arguments.load:.2f}; "
        f"mean handle {arguments.handle:.0f} s; {arguments.arrivals} arrivals; "
        f"returning {arguments.returning:.0%}; seed {arguments.seed}"
    )
    if arguments.affinity in ("off", "both"):
        report("affinity off", simulate(arguments, affinity=False), arguments)
    if arguments.affinity in ("on", "both"):
        report(
            f"affinity on (named advisor, {arguments.advisor_wait} s extra wait, "
            f"{arguments.advisor_line_wait} s while the line takes the free slots)",
            simulate(arguments, affinity=True),
            arguments,
        )


if __name__ == "__main__":
    main()
