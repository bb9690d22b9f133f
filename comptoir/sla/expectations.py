"""When a customer may expect a first answer: the line's recent first responses, in business time.

As Intercom tells e-mail customers, a promise from what the team actually does, not a
fixed "within 24 hours": the median time to first response of the brand's recent
conversations on the same channel (and team), counted in the team's business hours, added
to now in those hours. The e-mail acknowledgement says "we expect to answer by …" with it.
"""

import statistics
from datetime import datetime, timedelta

from comptoir.conversations.models import Conversation
from comptoir.sla.calendars import add_business_seconds, business_seconds_between
from comptoir.sla.risk import calendar_for

# The recent first responses the promise is made from, and how few are too few.
RECENT_CONVERSATIONS = 50
FEWEST_CONVERSATIONS = 5
LOOK_BACK = timedelta(days=30)


def expected_first_response(
    brand_id: int, team_id: int | None, channel: str, now: datetime
) -> datetime | None:
    """The instant a first answer can be expected by; None without enough recent history."""
    answered = Conversation.objects.filter(
        brand_id=brand_id,
        channel=channel,
        first_response_at__isnull=False,
        created_at__gte=now - LOOK_BACK,
        created_at__lte=now,
    )
    if team_id is not None:
        answered = answered.filter(team_id=team_id)
    pairs = list(
        answered.order_by("-created_at").values_list("created_at", "first_response_at")[
            :RECENT_CONVERSATIONS
        ]
    )
    if len(pairs) < FEWEST_CONVERSATIONS:
        return None
    calendar = calendar_for(brand_id, team_id)
    if calendar is None or not calendar.has_hours:
        median = statistics.median((answer - asked).total_seconds() for asked, answer in pairs)
        return now + timedelta(seconds=max(0.0, median))
    median = statistics.median(
        business_seconds_between(calendar, asked, answer) for asked, answer in pairs
    )
    return add_business_seconds(calendar, now, max(0.0, median))
