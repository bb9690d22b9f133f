"""What a waiting customer is told, on every channel: their place, the wait, or when we open.

The router's estimate (``routing.estimates``) says where the conversation stands in
its line; the team's business hours (``sla.risk.team_opening``) say whether the line
moves at all. A closed team's customers are told when it is back instead of a wait
that would be wrong, and are offered a callback. The widget (``POST /widget/api/wait``)
and the phone webhook's answer (read out by the IVR) both use ``wait_answer``.
"""

from typing import Any

from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext

from comptoir.conversations.models import Conversation
from comptoir.routing.estimates import estimate_wait
from comptoir.routing.models import QueueEntry
from comptoir.routing.wait_texts import wait_sentence
from comptoir.sla.calendars import Calendar
from comptoir.sla.risk import calendar_for, team_opening


def wait_answer(conversation_id: int) -> dict[str, Any] | None:
    """The conversation's place, wait in seconds and a sentence (active language); or None.

    None when it waits in no line. ``back_at`` is set (ISO 8601) while the team is closed.
    """
    estimate = estimate_wait(conversation_id)
    if estimate is None:
        return None
    line = (
        QueueEntry.objects.filter(conversation_id=conversation_id)
        .values_list("brand_id", "team_id")
        .first()
    ) or Conversation.objects.values_list("brand_id", "team_id").get(pk=conversation_id)
    opening = team_opening(*line, timezone.now())
    if not opening.open_now:
        back_at = opening.back_at
        if back_at is not None:  # told in the team's own time zone
            back_at = back_at.astimezone(calendar_for(*line).zone)
        if back_at is None:
            text = gettext("We are closed at the moment.")
        else:
            text = gettext("We are closed at the moment: we are back on %(date)s at %(time)s.") % {
                "date": date_format(back_at, "DATE_FORMAT"),
                "time": time_format(back_at, "TIME_FORMAT"),
            }
        return {
            **estimate.as_dict(),
            "estimated_wait_seconds": None,
            "offer_callback": True,
            "back_at": back_at.isoformat() if back_at else None,
            "text": text,
        }
    return {**estimate.as_dict(), "back_at": None, "text": wait_sentence(estimate)}


def _hours_line(calendar: Calendar) -> str:
    """The week's opening hours in the active language, days with the same hours together."""
    groups: list[tuple[list[int], tuple]] = []
    for weekday in range(7):
        intervals = calendar.week.get(weekday) or ()
        if not intervals:
            continue
        if groups and groups[-1][1] == intervals and groups[-1][0][-1] == weekday - 1:
            groups[-1][0].append(weekday)
        else:
            groups.append(([weekday], intervals))
    parts = []
    for days, intervals in groups:
        names = str(WEEKDAYS_ABBR[days[0]])
        if len(days) > 1:
            names = f"{names}\u2013{WEEKDAYS_ABBR[days[-1]]}"
        times = ", ".join(
            f"{time_format(start, 'TIME_FORMAT')}\u2013{time_format(end, 'TIME_FORMAT')}"
            for start, end in intervals
        )
        parts.append(f"{names} {times}")
    return "; ".join(parts)


def business_hours(brand_id: int) -> dict[str, Any] | None:
    """The widget's header: the brand's opening hours and, while closed, when it is back.

    ``{"hours": "Mon-Fri 9:00-18:00", "open_now": …, "offline": sentence or ""}``
    in the active language; None for a brand without a calendar (always open).
    """
    calendar = calendar_for(brand_id)
    if calendar is None:
        return None
    opening = team_opening(brand_id, None, timezone.now())
    offline = ""
    if not opening.open_now:
        if opening.back_at is None:
            offline = gettext("We are closed at the moment. Leave a message: we will answer it.")
        else:
            back_at = opening.back_at.astimezone(calendar.zone)
            offline = gettext(
                "We are closed at the moment: leave a message, we are back on %(date)s at %(time)s."
            ) % {
                "date": date_format(back_at, "DATE_FORMAT"),
                "time": time_format(back_at, "TIME_FORMAT"),
            }
    return {
        "hours": _hours_line(calendar) if calendar.has_hours else "",
        "open_now": opening.open_now,
        "offline": offline,
    }
