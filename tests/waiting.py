"""Waiting in tests for a state (a row, a file, an answer), never for a duration.

The deadline is only a cap, generous for a busy two-core machine: ``wait_until``
returns as soon as the state holds. It re-checks every few hundredths of a second
because the states it reads (another process's answer, a file, a metric) have no
notification to wait on; prefer an event where one exists.
"""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT = 120.0  # seconds
RECHECK_EVERY = 0.05  # seconds between two looks at the state


def wait_until(
    condition: Callable[[], T],
    what: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    tolerate: tuple[type[BaseException], ...] = (),
) -> T:
    """The first truthy result of ``condition()``; AssertionError naming ``what`` past the cap.

    ``tolerate``: exceptions that mean "not yet" (a server still starting, say).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = condition()
        except tolerate:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(RECHECK_EVERY)
