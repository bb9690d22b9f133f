"""Queueing formulas behind every wait shown to customers (``routing.waits``)."""

import math
import random
from fractions import Fraction

import pytest

from comptoir.routing.waits import (
    UnstableQueue,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    head_of_line_wait,
    last_to_enter_service_wait,
    queue_length_wait,
    servers_needed,
    service_level,
)


def erlang_c_by_the_textbook(servers: int, traffic: Fraction) -> Fraction:
    """The closed formula in exact fractions: an independent check of the recursion."""
    top = traffic**servers / math.factorial(servers) * Fraction(servers) / (servers - traffic)
    bottom = sum(traffic**k / math.factorial(k) for k in range(servers)) + top
    return top / bottom


def test_erlang_c_known_values():
    assert erlang_c(12, 10) == pytest.approx(0.449, abs=5e-4)  # the textbook's C(12, 10)
    assert erlang_c(2, 1) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: the utilisation


@pytest.mark.parametrize("servers", [1, 2, 5, 12, 40, 150])
def test_erlang_c_matches_the_closed_formula(servers):
    generator = random.Random(servers)
    for _ in range(20):
        traffic = Fraction(generator.randint(1, 999), 1000) * servers
        expected = float(erlang_c_by_the_textbook(servers, traffic))
        assert erlang_c(servers, float(traffic)) == pytest.approx(expected, rel=1e-9)


def test_large_centres_do_not_overflow():
    # 2,000 servers: A^N / N! alone overflows a float; the recursion does not.
    assert 0 < erlang_c(2000, 1950) < 1
    assert 0 < erlang_b(2000, 1950) < 1


def test_a_classic_staffing_question():
    # 10 Erlangs (200 contacts an hour, 3 minutes each), 80 % answered within 20 s.
    arrivals, handle = 200 / 3600, 180.0
    assert servers_needed(arrivals, handle, answered_within=20, target=0.8) == 14
    assert service_level(13, arrivals, handle, 20) < 0.8 <= service_level(14, arrivals, handle, 20)
    assert erlang_c(14, 10) == pytest.approx(0.174, abs=5e-4)
    assert service_level(14, arrivals, handle, 20) == pytest.approx(0.888, abs=1e-3)
    # ASA = C * h / (N - A)
    assert average_speed_of_answer(14, arrivals, handle) == pytest.approx(0.17413 * 180 / 4, 1e-3)


def test_nobody_arriving_means_no_wait():
    assert average_speed_of_answer(3, 0, 120) == 0
    assert service_level(3, 0, 120, 20) == 1


def test_more_work_than_servers_is_refused_clearly():
    with pytest.raises(UnstableQueue, match=r"12\.00 Erlangs offered to 10 servers"):
        erlang_c(10, 12)
    with pytest.raises(ValueError, match="at least 1"):
        erlang_c(0, 0.5)


def test_queue_length_predictor():
    # 3 ahead, 2 conversations served at a time, 4 minutes each: 4 departures at 1 per 2 min.
    assert queue_length_wait(3, 2, 240) == 480
    assert queue_length_wait(0, 1, 60) == 60
    with pytest.raises(ValueError):
        queue_length_wait(-1, 1, 60)


def test_recent_delay_predictors():
    assert last_to_enter_service_wait([12.0, 30.0, 18.0]) == 18.0
    assert last_to_enter_service_wait([]) is None
    # The head has waited 60 s with 3 in line (itself included): a newcomer needs 4 departures
    # at 3 per minute.
    assert head_of_line_wait(60, 3) == pytest.approx(80)
    assert head_of_line_wait(0, 0) is None
