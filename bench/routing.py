"""Routing benchmark: the production router in a discrete-event simulation, against the theory.

Poisson arrivals of chat conversations, exponential handle times, ``--agents`` agents
who hold one chat at a time, a share of returning customers with their own advisor.
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

DEFAULT_DATABASE_URL = "sqlite:///var/bench/routing.sqlite3"
SWEEP_SECONDS = 10  # the production sweep's period (ROUTING_SWEEP_CRON)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arrivals", type=int, default=4000, help="conversations per run")
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--load", type=float, default=0.85, help="utilisation λ·h / agents")
    parser.add_argument("--handle", type=float, default=300, help="mean handle time (s)")
    parser.add_argument(
        "--returning", type=float, default=0.3, help="share of arrivals with an advisor"
    )
    parser.add_argument("--warm-up", type=float, default=0.1, help="share of arrivals ignored")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", help=f"default: {DEFAULT_DATABASE_URL}")
    return parser.parse_args()


def configure_environment(database_url: str | None) -> str:
    url = database_url or DEFAULT_DATABASE_URL
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ["DEBUG"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
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
    estimate_errors: list[float] = field(default_factory=list)
    decisions: int = 0
    seconds: float = 0.0


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

    rng = random.Random(arguments.seed)  # the same arrivals and handle times for both runs
    suffix = uuid.uuid4().hex[:10]
    brand = Brand.objects.create(name=f"routing bench {suffix}", slug=f"routing-{suffix}")
    RoutingSettings.objects.create(
        brand=brand,
        advisor_mode=AdvisorMode.NAMED if affinity else AdvisorMode.OFF,
        chat_capacity=1,
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

    arrival_rate = arguments.load * arguments.agents / arguments.handle
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    events: list[tuple[float, int, str, int]] = []  # (time, tie-breaker, kind, conversation id)
    sequence = 0

    def schedule(at: float, kind: str, conversation_id: int = 0) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (at, sequence, kind, conversation_id))

    arrival_times: dict[int, float] = {}
    estimates: dict[int, float] = {}
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
            schedule(now + rng.expovariate(1 / arguments.handle), "departure", conversation_id)
            if index_of[conversation_id] < counted_from:
                continue
            outcome.waits.append(waited)
            if conversation_id in estimates:
                outcome.estimate_errors.append(abs(estimates[conversation_id] - waited))
            if conversation_id in advisors:
                outcome.returning_served += 1
                outcome.returning_by_advisor += decision.assignee_id == advisors[conversation_id]
        return len(decisions)

    clock = 0.0
    for number in range(arguments.arrivals):
        clock += rng.expovariate(arrival_rate)
        schedule(clock, "arrival", number)
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
            index_of[conversation.pk] = key
            customers_of[conversation.pk] = customer.pk
            if customer.advisor_id is not None:
                advisors[conversation.pk] = customer.advisor_id
            in_service += decide(now)
            waiting = estimate_wait(conversation.pk, now=moment)
            if waiting is not None and waiting.seconds is not None:
                estimates[conversation.pk] = waiting.seconds
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

    arrival_rate = arguments.load * arguments.agents / arguments.handle
    theory = average_speed_of_answer(arguments.agents, arrival_rate, arguments.handle)
    theory_level = service_level(arguments.agents, arrival_rate, arguments.handle, 20)
    asa = statistics.fmean(outcome.waits)
    within = sum(w <= 20 for w in outcome.waits) / len(outcome.waits)
    continuity = (
        outcome.returning_by_advisor / outcome.returning_served if outcome.returning_served else 0
    )
    mae = statistics.fmean(outcome.estimate_errors) if outcome.estimate_errors else float("nan")
    print(f"--- {label} ---")
    print(
        f"customers counted: {len(outcome.waits)} (after warm-up), decisions: {outcome.decisions}"
    )
    print(f"router asa: {asa:.1f} s")
    print(f"erlang c asa: {theory:.1f} s")
    print(f"asa ratio: {asa / theory:.2f}")
    print(f"service level 20s: {within:.1%} (erlang c: {theory_level:.1%})")
    print(f"advisor continuity: {continuity:.1%} ({outcome.returning_served} returning)")
    print(f"wait estimate mae: {mae:.1f} s (over {len(outcome.estimate_errors)} waiting customers)")
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
        f"staffing: {arguments.agents} agents, one chat each; load {arguments.load:.2f}; "
        f"mean handle {arguments.handle:.0f} s; {arguments.arrivals} arrivals; "
        f"returning {arguments.returning:.0%}; seed {arguments.seed}"
    )
    report("affinity off", simulate(arguments, affinity=False), arguments)
    report(
        "affinity on (named advisor, 60 s extra wait)",
        simulate(arguments, affinity=True),
        arguments,
    )


if __name__ == "__main__":
    main()
