"""The SLA badge of the console: how long before a conversation's next SLA breach.

The inbox shows it only on conversations at risk (past their policy's
at-risk share) or breached, from two columns ``console.queries.load_inbox``
annotates (no query per row); the conversation page shows it whenever a clock
runs (one query). Both refresh live: ``sla.at_risk`` and ``sla.breached``
events reach the console like any conversation event.
"""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from comptoir.conversations.models import Conversation
from comptoir.sla.models import ClockState, SlaClock

register = template.Library()


def duration_text(delta: timedelta) -> str:
    """12 min, 3 h 05, 2 days: what a glance needs."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return gettext("%(minutes)d min") % {"minutes": minutes}
    if minutes < 48 * 60:
        return gettext("%(hours)d h %(minutes)02d") % {
            "hours": minutes // 60,
            "minutes": minutes % 60,
        }
    days = minutes // (24 * 60)
    return ngettext("%(days)d day", "%(days)d days", days) % {"days": days}


def _badge(due_at: datetime, at_risk_at: datetime | None, now: datetime) -> dict:
    left = due_at - now
    breached = left <= timedelta(0)
    at_risk = breached or (at_risk_at is not None and at_risk_at <= now)
    if breached:
        text = gettext("SLA overdue by %(time)s") % {"time": duration_text(-left)}
    else:
        text = gettext("SLA: %(time)s left") % {"time": duration_text(left)}
    return {"text": text, "due_at": due_at, "at_risk": at_risk, "breached": breached}


@register.inclusion_tag("sla/_badge.html")
def sla_inbox_badge(item: Conversation) -> dict:
    """Only when at risk or breached (``sla_due_at``/``sla_at_risk_at`` are annotations)."""
    due_at = getattr(item, "sla_due_at", None)
    if due_at is None:
        return {"badge": None}
    badge = _badge(due_at, getattr(item, "sla_at_risk_at", None), timezone.now())
    return {"badge": badge if badge["at_risk"] else None}


@register.inclusion_tag("sla/_badge.html")
def sla_conversation_badge(conversation: Conversation) -> dict:
    """The soonest running clock of the conversation, whether at risk or not (one query)."""
    clock = (
        SlaClock.objects.filter(conversation=conversation, state=ClockState.RUNNING)
        .order_by("due_at")
        .only("due_at", "at_risk_at", "target")
        .first()
    )
    if clock is None or clock.due_at is None:
        return {"badge": None}
    badge = _badge(clock.due_at, clock.at_risk_at, timezone.now())
    badge["target"] = clock.get_target_display()
    return {"badge": badge}
