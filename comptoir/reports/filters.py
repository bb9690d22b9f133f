"""Reading a report's filters from a query string, within what the reader may see.

Agents see their own figures only (``agent`` is forced to themselves);
supervisors and administrators see the whole brand. A team or agent of another
brand is a 404, as everywhere; a malformed date or a period the wrong way
round is a 400 with its reason.
"""

from dataclasses import replace
from datetime import date, timedelta

from django.core.exceptions import BadRequest
from django.utils import timezone

from comptoir.conversations.models import Channel
from comptoir.reports.measures import Filters, fcr_days_of
from comptoir.tenancy.access import access_colleague, access_team
from comptoir.tenancy.models import Membership

DEFAULT_DAYS = 30
MAX_DAYS = 366


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name}: a date as YYYY-MM-DD.") from None


def parse_filters(membership: Membership, params: dict[str, str]) -> Filters:
    today = timezone.localdate()
    end = _date(params["to"], "to") if params.get("to") else today
    start = (
        _date(params["from"], "from")
        if params.get("from")
        else end - timedelta(days=DEFAULT_DAYS - 1)
    )
    if start > end:
        raise BadRequest("from: the period starts after it ends.")
    if (end - start).days >= MAX_DAYS:
        raise BadRequest(f"The period is longer than {MAX_DAYS} days.")
    channel = params.get("channel") or ""
    if channel and channel not in Channel.values:
        raise BadRequest(f"channel: one of {', '.join(Channel.values)}.")
    filters = Filters(
        brand_id=membership.brand_id,
        start=start,
        end=end,
        channel=channel,
        intent=(params.get("intent") or "")[:120],
        fcr_days=fcr_days_of(membership.brand_id),
    )
    if params.get("team"):
        filters = replace(filters, team_id=access_team(membership, params["team"]).pk)
    if not membership.is_supervisor:
        return replace(filters, agent_id=membership.pk)
    if params.get("agent"):
        filters = replace(filters, agent_id=access_colleague(membership, params["agent"]).pk)
    return filters
