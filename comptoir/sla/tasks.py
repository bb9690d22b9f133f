"""SLA timers: a delayed job per clock and instant (at risk, due) that reads the clock again."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from comptoir.events import kinds
from comptoir.sla.announce import announce, breach, calendar_of
from comptoir.sla.models import ClockState, SlaClock
from comptoir.tasks import task


@task(retries=3, retry_wait=30)
def check_clock(clock_id: int) -> None:
    """Announce the clock's risk or breach if due now; nothing if it moved (see ``clocks``)."""
    check_clock_now(clock_id)


# --- Timers -----------------------------------------------------------------------------------


def check_clock_now(clock_id: int, now: datetime | None = None) -> None:
    """A timer fired: announce the risk or the breach if, read again now, it is due.

    Safe to run any number of times: each announcement is recorded on the
    clock and made once; a clock that was paused, stopped or moved since the
    timer was queued is left alone (its new timers are queued).
    """
    now = now or timezone.now()
    with transaction.atomic():
        clock = (
            SlaClock.objects.select_for_update(of=("self",))
            .select_related("sla__policy__calendar")
            .filter(pk=clock_id)
            .first()
        )
        if clock is None or clock.state != ClockState.RUNNING or clock.sla.policy is None:
            return
        calendar = calendar_of(clock.sla.policy)
        changed = False
        if (
            clock.at_risk_notified_at is None
            and clock.at_risk_at is not None
            and now >= clock.at_risk_at
            and (clock.due_at is None or now < clock.due_at)
        ):
            clock.at_risk_notified_at = now
            announce(kinds.SLA_AT_RISK, clock, calendar, now)
            changed = True
        if clock.breached_at is None and clock.due_at is not None and now >= clock.due_at:
            if clock.at_risk_notified_at is None:
                clock.at_risk_notified_at = now
            breach(clock, calendar, now)
            changed = True
        if changed:
            clock.save(update_fields=["at_risk_notified_at", "breached_at"])
