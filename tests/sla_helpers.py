"""Building SLA set-ups for tests through ``sla.configure``, and reading what they produced."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from comptoir.events.models import Event
from comptoir.sla import configure
from comptoir.sla.models import BusinessCalendar, SlaClock, SlaPolicy
from comptoir.tasks import run_pending
from comptoir.tenancy.models import Brand
from tests.task_helpers import make_jobs_due

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600
# Monday to Friday, 09:00-12:30 and 14:00-18:00.
OFFICE_DAY = [(time(9), time(12, 30)), (time(14), time(18))]


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def office_calendar(brand: Brand, name: str = "Bureau") -> BusinessCalendar:
    calendar = configure.save_calendar(brand, name, "Europe/Paris")
    configure.set_week(calendar, {day: OFFICE_DAY for day in range(5)})
    return calendar


def office_policy(brand: Brand, calendar: BusinessCalendar | None = None, **fields) -> SlaPolicy:
    values = {
        "name": "Standard",
        "first_response_seconds": 2 * HOUR,
        "next_response_seconds": 4 * HOUR,
        "resolution_seconds": 16 * HOUR,
        "at_risk_percent": 80,
    } | fields
    return configure.save_policy(
        SlaPolicy(brand=brand, calendar=calendar or office_calendar(brand), **values)
    )


def clock(conversation, target: str) -> SlaClock:
    return SlaClock.objects.get(conversation=conversation, target=target)


def sla_events(conversation, kind: str) -> list[Event]:
    return list(Event.objects.filter(conversation=conversation, kind=kind).order_by("pk"))


def run_timers() -> int:
    """Delayed jobs made due (without waiting) and run: what a worker does at their time."""
    make_jobs_due()
    return run_pending()
