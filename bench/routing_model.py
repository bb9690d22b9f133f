"""A pure-Python replay of ``routing.assign_next``'s decision rule, to compare advisor policies.

``bench/routing.py`` drives the production router on a database: about 6 minutes of
real time for 4,000 arrivals on the shared 2-core machine, too slow to sweep policies
over many seeds and loads. This model makes the same decisions on the same draws (the
same seeds give the same arrivals, handle times and returning customers as
``bench/routing.py``): the advisor-first pass, then the line by time waited; the extra
wait (``advisor_wait_seconds``) and the line wait (``advisor_line_wait_seconds``);
most spare capacity then longest idle; the router run at each arrival, departure and
10 s sweep. It was checked against the production bench figure for figure (BENCHMARKS.md,
"Advisor continuity: which wait pays"); it is an exploration tool, not a second router.

    python3 bench/routing_model.py            # the table of BENCHMARKS.md (a few minutes)
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    extra_wait: float = 20  # ``advisor_wait_seconds``
    line_wait: float = 300  # ``advisor_line_wait_seconds``
    # Ideas measured and dropped (BENCHMARKS.md):
    reserve_after: float = 0  # a stranger takes an agent's last free chat only after this wait
    predicted_below: float | None = None  # wait only if a chat's mean remaining time is below


@dataclass(frozen=True)
class Result:
    asa: float
    ideal_asa: float
    continuity: float


def simulate(
    policy: Policy | None,
    *,
    seed: int = 2026,
    arrivals: int = 4000,
    agents: int = 10,
    capacity: int = 3,
    load: float = 0.85,
    handle: float = 300.0,
    returning: float = 0.3,
    sweep: float = 10.0,
    warm_up: float = 0.1,
) -> Result:
    """One run; ``policy`` None: affinity off. Draws as ``bench/routing.py``'s for the seed."""
    rng = random.Random(seed)
    rate = load * agents * capacity / handle
    clock = 0.0
    draws = []
    for _ in range(arrivals):
        clock += rng.expovariate(rate)
        draws.append((clock, rng.expovariate(1 / handle)))
    who_returns = random.Random(seed + 1)
    free_at = [0.0] * (agents * capacity)  # the ideal first-come-first-served line
    ideal = []
    for arrival, length in draws:
        begins = max(arrival, heapq.heappop(free_at))
        ideal.append(begins - arrival)
        heapq.heappush(free_at, begins + length)

    events: list[tuple[float, int, str, object]] = []
    sequence = 0

    def schedule(at: float, kind: str, key: object) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (at, sequence, kind, key))

    for number, (arrival, _length) in enumerate(draws):
        schedule(arrival, "arrival", number)
    schedule(0.0, "sweep", 0)
    chats: list[dict[int, float]] = [{} for _ in range(agents)]  # conversation -> start
    last_assigned = [-1e18] * agents
    queue: dict[int, tuple[float, int | None]] = {}  # conversation -> (queued, advisor)
    advisor_of: dict[int, int | None] = {}
    waits: dict[int, float] = {}
    by_advisor: dict[int, bool] = {}

    def spare(agent: int) -> int:
        return capacity - len(chats[agent])

    def assign(conversation: int, agent: int, now: float) -> None:
        chats[agent][conversation] = now
        last_assigned[agent] = now
        queued, advisor = queue.pop(conversation)
        waits[conversation] = now - queued
        by_advisor[conversation] = advisor == agent
        schedule(now + draws[conversation][1], "departure", (conversation, agent))

    def holds(conversation: int, now: float) -> bool:
        queued, advisor = queue[conversation]
        return (
            policy is not None
            and advisor is not None
            and now - queued < max(policy.extra_wait, policy.line_wait)
        )

    def passes_to_the_line(conversation: int, now: float) -> bool:
        slots = sum(max(0, spare(agent)) for agent in range(agents))
        behind = [c for c in queue if (queue[c][0], c) > (queue[conversation][0], conversation)]
        takers = sum(
            1 for c in behind if queue[c][1] is None or spare(queue[c][1]) > 0 or not holds(c, now)
        )
        return takers >= slots

    def waits_for_advisor(conversation: int, advisor: int, now: float) -> bool:
        waited = now - queue[conversation][0]
        if policy.predicted_below is not None and waited < policy.extra_wait:
            remaining = min(max(0.0, handle - (now - s)) for s in chats[advisor].values())
            return remaining <= policy.predicted_below
        if waited < policy.extra_wait:
            return True
        return waited < policy.line_wait and passes_to_the_line(conversation, now)

    def decide(now: float) -> None:
        if not queue:
            return
        free = {agent for agent in range(agents) if spare(agent) > 0}
        for conversation in sorted(queue, key=lambda c: (queue[c][0], c)):
            advisor = queue[conversation][1]
            if advisor in free and spare(advisor) > 0:
                assign(conversation, advisor, now)
        for conversation in sorted(queue, key=lambda c: (queue[c][0], c)):
            queued, advisor = queue[conversation]
            if advisor is not None:
                if spare(advisor) > 0:
                    assign(conversation, advisor, now)
                    continue
                if waits_for_advisor(conversation, advisor, now):
                    continue
            waited = now - queued
            candidates = [
                agent
                for agent in range(agents)
                if spare(agent) > 1
                or (spare(agent) == 1 and (not policy or waited >= policy.reserve_after))
            ]
            if candidates:
                best = min(candidates, key=lambda a: (-spare(a), last_assigned[a], a))
                assign(conversation, best, now)

    regulars = agents * 20
    open_regulars: set[int] = set()
    customer_of: dict[int, int] = {}
    while events:
        now, _, kind, key = heapq.heappop(events)
        if kind == "arrival":
            advisor = None
            free_regulars = [c for c in range(regulars) if c not in open_regulars]
            if who_returns.random() < returning and free_regulars:
                customer = who_returns.choice(free_regulars)
                open_regulars.add(customer)
                customer_of[key] = customer
                advisor = customer % agents
            advisor_of[key] = advisor
            queue[key] = (now, advisor if policy is not None else None)
        elif kind == "departure":
            conversation, agent = key
            del chats[agent][conversation]
            open_regulars.discard(customer_of.get(conversation))
        decide(now)
        if kind == "sweep" and events:
            schedule(now + sweep, "sweep", 0)
    counted = range(int(arrivals * warm_up), arrivals)
    served = [c for c in counted if advisor_of[c] is not None]
    return Result(
        asa=sum(waits[c] for c in counted) / len(counted),
        ideal_asa=sum(ideal[int(arrivals * warm_up) :]) / len(counted),
        continuity=sum(by_advisor[c] for c in served) / len(served) if policy else 0.0,
    )


POLICIES: list[tuple[str, Policy | None]] = [
    ("off", None),
    ("60 s, no line wait (old default)", Policy(60, 0)),
    ("30 s, no line wait", Policy(30, 0)),
    ("0 s, line 300 s", Policy(0, 300)),
    ("20 s, line 300 s (new default)", Policy(20, 300)),
    ("30 s, line 300 s", Policy(30, 300)),
    ("60 s, line 300 s", Policy(60, 300)),
    ("120 s, line 300 s", Policy(120, 300)),
]


def main() -> None:
    for load in (0.7, 0.85, 0.95):
        for name, policy in POLICIES:
            short = [simulate(policy, seed=s, load=load) for s in (2026, 7, 1, 2, 3)]
            long = [simulate(policy, seed=s, arrivals=40000, load=load) for s in (11, 12, 13)]
            ratios = [r.asa / r.ideal_asa for r in short]
            asa = sum(r.asa for r in long) / 3
            ideal = sum(r.ideal_asa for r in long) / 3
            if policy is None:
                continuity = ("-", "-")
            else:
                kept = [r.continuity for r in short]
                continuity = (
                    f"{min(kept):.0%} to {max(kept):.0%}",
                    f"{sum(r.continuity for r in long) / 3:.1%}",
                )
            print(
                f"| {load} | {name} | {min(ratios):.2f} to {max(ratios):.2f} | {continuity[0]} "
                f"| {asa / ideal:.2f} | {continuity[1]} | {asa:.1f} / {ideal:.1f} s |",
                flush=True,
            )


if __name__ == "__main__":
    main()
