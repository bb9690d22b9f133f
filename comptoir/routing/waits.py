"""How long a customer will wait: queueing theory for a queue of conversations, in seconds.

Pure functions, no database: the router, the widget, the e-mail acknowledgement, the
phone webhook and ``bench/routing.py`` feed them live figures (arrivals per second,
mean handle time, how many conversations the available agents can take at once).

Two kinds of estimate, as in Ibrahim & Whitt's work on delay predictors:

- **Erlang C** (M/M/c): from the arrival rate, the mean handle time and the number of
  servers, the probability of waiting at all, the average speed of answer (ASA) and
  the service level (share answered within a target). It describes the queue on
  average and needs no history, so it also answers "how many agents do we need".
- **Predictors for one customer**, from where they stand: the queue-length predictor
  (``position`` conversations ahead, served ``servers`` at a time) and the recent-delay
  predictors (the wait of the last customer to enter service, LES; the elapsed wait of
  the customer at the head of the line, HOL), which follow changes in staffing and
  handle time without knowing them.
"""

import math
from collections.abc import Sequence


class UnstableQueue(ValueError):
    """More work arrives than the servers can handle: the wait grows without bound."""


def _check(servers: int, traffic: float) -> None:
    if servers < 1:
        raise ValueError(f"servers must be at least 1, not {servers}")
    if traffic < 0:
        raise ValueError(f"traffic must not be negative, not {traffic}")


def erlang_b(servers: int, traffic: float) -> float:
    """Probability that all ``servers`` are busy in a loss system offered ``traffic`` Erlangs.

    By the recursion B(k) = A·B(k-1) / (k + A·B(k-1)), stable for thousands of servers
    where the textbook formula's A^N/N! overflows.
    """
    _check(servers, traffic)
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def erlang_c(servers: int, traffic: float) -> float:
    """Probability that an arriving customer waits (all ``servers`` busy), M/M/c.

    ``traffic`` is the offered load in Erlangs: arrivals per second times mean handle
    time in seconds. With traffic at or above the servers the queue is unstable.
    """
    _check(servers, traffic)
    if traffic >= servers:
        raise UnstableQueue(f"{traffic:.2f} Erlangs offered to {servers} servers")
    blocking = erlang_b(servers, traffic)
    return servers * blocking / (servers - traffic * (1 - blocking))


def average_speed_of_answer(
    servers: int, arrivals_per_second: float, handle_seconds: float
) -> float:
    """Mean wait in seconds over all customers (those answered at once count zero)."""
    traffic = arrivals_per_second * handle_seconds
    if traffic == 0:
        return 0.0
    return erlang_c(servers, traffic) * handle_seconds / (servers - traffic)


def service_level(
    servers: int, arrivals_per_second: float, handle_seconds: float, answered_within: float
) -> float:
    """Share of customers answered within ``answered_within`` seconds, between 0 and 1."""
    traffic = arrivals_per_second * handle_seconds
    if traffic == 0:
        return 1.0
    waiting = erlang_c(servers, traffic)
    return 1 - waiting * math.exp(-(servers - traffic) * answered_within / handle_seconds)


def servers_needed(
    arrivals_per_second: float,
    handle_seconds: float,
    *,
    answered_within: float,
    target: float,
    at_most: int = 10_000,
) -> int:
    """The fewest servers that answer ``target`` (e.g. 0.8) of customers within the time."""
    if not 0 < target < 1:
        raise ValueError(f"target must be between 0 and 1, not {target}")
    traffic = arrivals_per_second * handle_seconds
    servers = max(1, math.floor(traffic) + 1)
    while servers <= at_most:
        if service_level(servers, arrivals_per_second, handle_seconds, answered_within) >= target:
            return servers
        servers += 1
    raise UnstableQueue(f"more than {at_most} servers needed")


def queue_length_wait(position: int, servers: int, handle_seconds: float) -> float:
    """Expected wait of a customer with ``position`` conversations ahead, all servers busy.

    With exponential handle times the servers free up one at a time at the rate
    ``servers / handle_seconds``; the customer needs ``position + 1`` of them.
    """
    if position < 0:
        raise ValueError(f"position must not be negative, not {position}")
    if servers < 1:
        raise ValueError(f"servers must be at least 1, not {servers}")
    return (position + 1) * handle_seconds / servers


def last_to_enter_service_wait(recent_waits: Sequence[float]) -> float | None:
    """LES: the wait of the customer who last entered service, or None without one.

    ``recent_waits`` are the waits of the customers who entered service, oldest
    first; only the last counts.
    """
    return float(recent_waits[-1]) if recent_waits else None


def head_of_line_wait(head_waited: float, ahead: int) -> float | None:
    """HOL: a newcomer's wait from the elapsed wait of the customer at the head of the line.

    Since the head arrived ``head_waited`` seconds ago, ``ahead`` customers (the head
    included) have arrived and none of them has been served; in a stable queue they
    leave as fast as they came, so the newcomer needs ``ahead + 1`` departures at
    ``ahead / head_waited`` per second (Ibrahim & Whitt's refined HOL predictor).
    None when nobody waits (the newcomer is the head).
    """
    if head_waited < 0 or ahead < 0:
        raise ValueError("head_waited and ahead must not be negative")
    if ahead == 0:
        return None
    return head_waited * (ahead + 1) / ahead
