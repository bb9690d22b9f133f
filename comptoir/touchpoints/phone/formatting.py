"""The phone channel's texts: durations as agents read them, and the lines stored in timelines.

Each text is in the active language; callers choose it (the brand's for what
is stored, the agent's for what the console shows).
"""

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext

from comptoir.conversations.models import Direction
from comptoir.touchpoints.phone.models import Call, CallStatus


def format_duration(seconds: int | None) -> str:
    """``42`` → ``0:42``, ``3725`` → ``1:02:05``."""
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def call_summary_text(call: Call) -> str:
    """The call as one line of text, in the active language (stored for search and the inbox).

    The console renders calls from the ``Call`` itself, in the agent's
    language; this text is what search and the inbox preview read.
    """
    if call.direction == Direction.INBOUND:
        text = gettext("Incoming call from %(number)s") % {"number": call.from_number}
    else:
        text = gettext("Outgoing call to %(number)s") % {"number": call.to_number}
    details = []
    if call.wait_seconds is not None:
        details.append(gettext("waited %(time)s") % {"time": format_duration(call.wait_seconds)})
    if call.talk_seconds:
        details.append(gettext("talked %(time)s") % {"time": format_duration(call.talk_seconds)})
    if call.status != CallStatus.COMPLETED:
        details.append(str(CallStatus(call.status).label).lower())
    if details:
        text = f"{text} — {', '.join(details)}"
    return text


def callback_request_text(number: str, requested_for: datetime | None, note: str) -> str:
    """What the customer's request says in the timeline, in the active language."""
    if requested_for is None:
        text = gettext("Please call me back as soon as possible at %(number)s.") % {
            "number": number
        }
    else:
        when = timezone.localtime(requested_for).strftime("%Y-%m-%d %H:%M")
        text = gettext("Please call me back at %(number)s on %(when)s.") % {
            "number": number,
            "when": when,
        }
    if note:
        text = f"{text}\n{note}"
    return text
