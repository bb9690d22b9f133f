"""SLA timers: a delayed job per clock and instant (at risk, due) that reads the clock again."""

from comptoir.sla import clocks
from comptoir.tasks import task


@task(retries=3, retry_wait=30)
def check_clock(clock_id: int) -> None:
    """Announce the clock's risk or breach if due now; nothing if it moved (see ``clocks``)."""
    clocks.check_clock(clock_id)
