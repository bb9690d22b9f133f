"""The supervisor's live board: every line with its waiting conversations, every agent's load.

What ``/console/board/`` shows, read in a fixed number of queries whatever the size of
the brand: the router's queue entries (``QueueEntry``) grouped into lines (team and
channel group) in the router's order, with how long each has waited and whether its
SLA is at risk; and every active agent with their presence, load and capacity per
channel group. The page refreshes it on every event of the brand (console.js).
"""

from dataclasses import dataclass, field
from datetime import datetime

from comptoir.conversations.models import Conversation
from comptoir.routing import clock, hooks
from comptoir.routing.models import ChannelGroup, QueueEntry, channel_group
from comptoir.routing.presence import presence_of
from comptoir.routing.router import loads_of, profiles_of, score, spare_capacity
from comptoir.routing.rules import routing_settings
from comptoir.routing.wait_texts import spoken_duration
from comptoir.tenancy.models import Availability, Membership, Team

# Waiting conversations listed per line (the count and the longest wait cover all of them).
SHOWN_PER_LINE = 20


@dataclass
class Waiting:
    conversation: Conversation
    waited_seconds: int
    at_risk: bool

    @property
    def waited_label(self) -> str:
        return spoken_duration(self.waited_seconds)


@dataclass
class Line:
    team: Team | None
    group: str
    waiting: list[Waiting] = field(default_factory=list)
    count: int = 0

    @property
    def longest_wait_seconds(self) -> int:
        return max((w.waited_seconds for w in self.waiting), default=0)

    @property
    def longest_wait_label(self) -> str:
        return spoken_duration(self.longest_wait_seconds)

    @property
    def group_label(self) -> str:
        return ChannelGroup(self.group).label


@dataclass
class AgentLoad:
    group: str
    label: str
    load: int
    capacity: int


@dataclass
class AgentRow:
    membership: Membership
    presence: str
    loads: list[AgentLoad]

    @property
    def presence_label(self) -> str:
        return Availability(self.presence).label


@dataclass
class Board:
    lines: list[Line]
    agents: list[AgentRow]
    teams: list[Team]

    @property
    def waiting_count(self) -> int:
        return sum(line.count for line in self.lines)

    @property
    def longest_wait_seconds(self) -> int:
        return max((line.longest_wait_seconds for line in self.lines), default=0)

    @property
    def longest_wait_label(self) -> str:
        return spoken_duration(self.longest_wait_seconds)

    @property
    def at_risk_count(self) -> int:
        return sum(w.at_risk for line in self.lines for w in line.waiting)


def board_of(brand_id: int, *, now: datetime | None = None) -> Board:
    """The brand's lines and agents as the router sees them now."""
    now = now or clock.now()
    rules = routing_settings(brand_id)
    entries = list(
        QueueEntry.objects.filter(brand_id=brand_id)
        .select_related("conversation__customer", "conversation__assignee__user", "team")
        .order_by("queued_at", "pk")
    )
    at_risk = hooks.sla_at_risk([entry.conversation_id for entry in entries])
    entries.sort(key=lambda entry: -score(entry, rules, now, at_risk))
    lines: dict[tuple[int | None, str], Line] = {}
    for entry in entries:
        group = channel_group(entry.channel)
        line = lines.setdefault((entry.team_id, group), Line(entry.team, group))
        line.count += 1
        if len(line.waiting) < SHOWN_PER_LINE:
            waited = max(0, int((now - entry.queued_at).total_seconds()))
            line.waiting.append(
                Waiting(entry.conversation, waited, entry.conversation_id in at_risk)
            )
    agents = list(
        Membership.objects.filter(brand_id=brand_id, is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "pk")
    )
    profiles = profiles_of(agents)
    loads = loads_of(brand_id, [agent.pk for agent in agents])
    rows = []
    for agent in agents:
        profile = profiles[agent.pk]
        held = loads[agent.pk]
        full = not any(spare_capacity(profile, held, g, rules) > 0 for g in ChannelGroup.values)
        rows.append(
            AgentRow(
                agent,
                presence_of(agent, at_capacity=full, now=now),
                [
                    AgentLoad(g, ChannelGroup(g).label, held.get(g, 0), profile.capacity(g, rules))
                    for g in ChannelGroup.values
                ],
            )
        )
    teams = list(Team.objects.filter(brand_id=brand_id).order_by("name"))
    ordered = sorted(lines.values(), key=lambda line: -line.longest_wait_seconds)
    return Board(ordered, rows, teams)
