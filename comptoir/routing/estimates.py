"""A waiting conversation's place in line and expected wait in seconds: what customers are told.

One function, ``estimate_wait``, for every channel: the widget shows it live, the
phone webhook returns it for the IVR to read out, the API carries it. It looks at
the line as the router sees it (``routing.router``: the same queue entries, in the
router's order), so the place it announces is the place the router serves:

- the line: the brand's waiting conversations of the same team and channel group,
  highest router score first (VIP and urgent customers pass ahead, as they will);
- the servers: how many conversations of that channel group the available members
  of the team can hold at once (their capacities, ``routing.models``);
- the handle time: how long this line's recent conversations stayed with an agent,
  from assignment to resolution (``conversation.assigned`` events and
  ``Conversation.resolved_at``), or a default per channel group until there are some.

With all servers busy, a customer with ``position - 1`` ahead waits for ``position``
departures: the queue-length predictor of ``routing.waits``. Nobody available
means no figure at all: the customer is told that, never an invented number.
"""

import statistics
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from comptoir.conversations.models import Conversation
from comptoir.conversations.state import OPEN_STATUSES
from comptoir.events import kinds
from comptoir.events.models import Event
from comptoir.routing import clock, hooks
from comptoir.routing.models import ChannelGroup, QueueEntry, channel_group
from comptoir.routing.router import profiles_of, score
from comptoir.routing.rules import channels_routed_when_new, routing_settings
from comptoir.routing.waits import queue_length_wait
from comptoir.tenancy.models import Membership

# Until a line has its own history: a chat or a call is handled in minutes, an e-mail in hours.
DEFAULT_HANDLE_SECONDS = {
    ChannelGroup.CHAT: 8 * 60,
    ChannelGroup.MESSAGING: 15 * 60,
    ChannelGroup.CALL: 5 * 60,
    ChannelGroup.EMAIL: 4 * 3600,
}
# The recent conversations a line's handle time is measured on.
HANDLE_TIME_SAMPLE = 50
HANDLE_TIME_WINDOW = timedelta(days=7)
# Assignments read to find that sample among all of the brand's lines.
ASSIGNMENTS_SCANNED = 1000
# A line's handle time is measured again at most this often (simulated time included).
HANDLE_TIME_REFRESH = timedelta(seconds=60)


@dataclass(frozen=True)
class WaitEstimate:
    position: int  # 1: the next conversation an agent of this line takes
    waiting: int  # conversations in this line, this one included
    seconds: int | None  # None: nobody who could take it is available now
    agents_available: int
    handle_seconds: int  # the line's recent mean time with an agent
    # The brand's threshold is passed (or nobody is available): offer to call back instead.
    offer_callback: bool = False

    def as_dict(self) -> dict[str, int | bool | None]:
        return {
            "position": self.position,
            "waiting": self.waiting,
            "estimated_wait_seconds": self.seconds,
            "agents_available": self.agents_available,
            "offer_callback": self.offer_callback,
        }


def estimate_wait(conversation_id: int, *, now: datetime | None = None) -> WaitEstimate | None:
    """The conversation's place and expected wait; None when it waits in no line.

    A new conversation on a channel the brand routes at once is counted as joining its
    line even before the router's job has queued it: a caller's IVR asks right away.
    """
    now = now or clock.now()
    entry = (
        QueueEntry.objects.select_related("conversation__customer")
        .filter(conversation_id=conversation_id)
        .first()
    ) or _joining(conversation_id, now)
    if entry is None:
        return None
    rules = routing_settings(entry.brand_id)
    group = channel_group(entry.channel)
    line = [
        queued
        for queued in QueueEntry.objects.filter(brand_id=entry.brand_id, team_id=entry.team_id)
        .exclude(pk=entry.pk)
        .select_related("conversation__customer")
        .order_by("queued_at", "pk")
        if channel_group(queued.channel) == group
    ]
    line.append(entry)
    at_risk = hooks.sla_at_risk([queued.conversation_id for queued in line])
    ranked = sorted(
        line, key=lambda queued: (-score(queued, rules, now, at_risk), queued.queued_at)
    )
    position = ranked.index(entry) + 1
    agents, slots = _servers(entry, group, rules, now)
    handle = mean_handle_seconds(entry.brand_id, entry.team_id, group, now=now)
    seconds = round(queue_length_wait(position - 1, slots, handle)) if slots else None
    threshold = rules.offer_callback_after_seconds
    offer = bool(threshold) and (seconds is None or seconds > threshold)
    return WaitEstimate(position, len(line), seconds, agents, round(handle), offer)


def _joining(conversation_id: int, now: datetime) -> QueueEntry | None:
    """An unsaved entry for a new conversation the router is about to queue, or None."""
    conversation = (
        Conversation.objects.select_related("customer")
        .filter(pk=conversation_id, assignee__isnull=True, status__in=OPEN_STATUSES)
        .first()
    )
    if conversation is None:
        return None
    if conversation.channel not in channels_routed_when_new().get(conversation.brand_id, ()):
        return None
    return QueueEntry(
        brand_id=conversation.brand_id,
        conversation=conversation,
        team_id=conversation.team_id,
        channel=conversation.channel,
        queued_at=now,
    )


def _servers(entry: QueueEntry, group: str, rules, now: datetime) -> tuple[int, int]:
    """(agents available for this line, conversations of ``group`` they can hold at once)."""
    members = Membership.objects.select_related("user").filter(brand_id=entry.brand_id)
    if entry.team_id is not None:
        members = members.filter(teams=entry.team_id)
    available = [member for member in members if member.is_available(now)]
    profiles = profiles_of(available)
    slots = sum(max(0, profiles[member.pk].capacity(group, rules)) for member in available)
    return len(available), slots


_handle_times: dict[tuple[int, int | None, str], tuple[datetime, float]] = {}
_handle_times_lock = threading.Lock()


def mean_handle_seconds(
    brand_id: int, team_id: int | None, group: str, *, now: datetime | None = None
) -> float:
    """How long the line's recent conversations stayed with an agent (cached a minute)."""
    now = now or clock.now()
    key = (brand_id, team_id, group)
    cached = _handle_times.get(key)
    if cached is not None and abs(now - cached[0]) < HANDLE_TIME_REFRESH:
        return cached[1]
    measured = _measure_handle_seconds(brand_id, team_id, group, now)
    value = measured if measured is not None else float(DEFAULT_HANDLE_SECONDS[group])
    with _handle_times_lock:
        _handle_times[key] = (now, value)
    return value


def forget_handle_times() -> None:
    """Drop this process's measured handle times (tests, and a simulation's fresh start)."""
    with _handle_times_lock:
        _handle_times.clear()


def _measure_handle_seconds(
    brand_id: int, team_id: int | None, group: str, now: datetime
) -> float | None:
    """Mean time from assignment to resolution of the line's last resolved conversations.

    The assignment time is the router's (``assigned_at`` in the event), not the
    row's insertion time, so a simulation's clock measures like a real one.
    """
    assigned_at: dict[int, datetime] = {}
    for conversation_id, payload in (
        Event.objects.filter(
            brand_id=brand_id,
            kind=kinds.CONVERSATION_ASSIGNED.name,
            created_at__gte=timezone.now() - HANDLE_TIME_WINDOW,
        )
        .order_by("-id")
        .values_list("conversation_id", "payload")[:ASSIGNMENTS_SCANNED]
    ):
        if payload["assignee_id"] is None:
            continue  # moved to a team's queue, nobody took it yet
        at = datetime.fromisoformat(payload["assigned_at"])
        if at <= now:
            assigned_at.setdefault(conversation_id, at)  # its latest assignment
    if not assigned_at:
        return None
    resolved = Conversation.objects.filter(
        pk__in=list(assigned_at), resolved_at__isnull=False, resolved_at__lte=now
    )
    if team_id is not None:
        resolved = resolved.filter(team_id=team_id)
    # The last conversations *resolved* (not the last assigned: among those, the long ones
    # are still being handled, and the mean would come out too short).
    handled = sorted(
        (resolved_at, (resolved_at - assigned_at[pk]).total_seconds())
        for pk, channel, resolved_at in resolved.values_list("pk", "channel", "resolved_at")
        if channel_group(channel) == group and resolved_at > assigned_at[pk]
    )
    if not handled:
        return None
    return statistics.fmean(seconds for _, seconds in handled[-HANDLE_TIME_SAMPLE:])
