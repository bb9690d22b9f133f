"""``assign_next``: the one action that gives waiting conversations to agents.

It runs on every change that may allow a decision (a new conversation or a
handoff, an agent becoming free or available: ``routing.listeners``) and on a
timer (``routing.tasks.sweep``, for the advisor's extra wait and the widening
thresholds). For each waiting conversation (``QueueEntry``), highest score first
(minutes waited plus the weights of VIP, priority and SLA risk), in this order:

1. the customer's advisor (named, or by default the agent who last handled
   them), when available with spare capacity; while the advisor is online but
   busy, the conversation waits for them up to ``advisor_wait_seconds`` (a free
   slot elsewhere may stay idle meanwhile: short), and up to
   ``advisor_line_wait_seconds`` as long as the slot it passes goes to a
   conversation behind it in the same line (no slot left idle: the line's
   average wait does not grow; ``passes_to_the_line``);
2. the team's members (teams with ``auto_assign``) who are available, speak the
   language and hold the skills (required and optional), most spare capacity
   first, then the longest idle (oldest ``last_assigned_at``);
3. after ``drop_optional_after_seconds``, without the optional skills; after
   ``overflow_after_seconds``, the members of the team's overflow team.

An advisor who is free takes their own waiting customer first, before the line is
served in score order: a returning customer gets continuity whenever it costs nobody
more than the advisor's extra wait.

Several processes may run it at once: each decision is one transaction that
holds the conversation's row lock and the chosen agent's ``AgentProfile`` row
lock, both taken with ``SKIP LOCKED`` (another process deciding on them is
passed over, never waited for: no deadlock), and the agent's load is counted
again under that lock. So a conversation is never assigned twice and an
agent's capacity is never exceeded. SQLite serialises writers instead.

Nothing here reads the wall clock except through ``now`` (``routing.clock``):
a simulation passes its own.
"""

import functools
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import Count

from comptoir.conversations.models import Conversation, Priority, Status
from comptoir.conversations.state import OPEN_STATUSES, conversation_changed
from comptoir.events import kinds
from comptoir.events.actors import SYSTEM, Actor
from comptoir.events.log import append_event
from comptoir.routing import clock, hooks
from comptoir.routing.models import (
    AdvisorMode,
    AgentProfile,
    AgentSkill,
    ChannelGroup,
    QueueEntry,
    RoutingSettings,
    SkillRequirement,
    TeamRouting,
    channel_group,
)
from comptoir.routing.rules import routing_settings
from comptoir.tenancy.models import Availability, Membership, Team

logger = logging.getLogger(__name__)

# How many waiting conversations one run looks at (highest score first among the oldest).
SCAN_LIMIT = 500


class Reason(StrEnum):
    """Why a conversation went to someone (``conversation.assigned``'s ``reason``)."""

    ADVISOR = "advisor"
    SKILLS = "skills"
    WIDENED = "widened"
    OVERFLOW = "overflow"
    MANUAL = "manual"
    TRANSFER = "transfer"
    ANSWERED = "answered"


@dataclass(frozen=True)
class Decision:
    conversation_id: int
    assignee_id: int
    team_id: int | None
    reason: Reason
    waited_seconds: int


# Queueing


def required_skills(brand_id: int, intent_id: int | None, channel: str) -> list[dict[str, Any]]:
    """What the intent and the channel need: [{"skill", "level", "optional"}], one per skill."""
    requirements = SkillRequirement.objects.filter(brand_id=brand_id, channel=channel)
    if intent_id is not None:
        requirements = requirements | SkillRequirement.objects.filter(
            brand_id=brand_id, intent_id=intent_id
        )
    needed: dict[int, dict[str, Any]] = {}
    for skill_id, level, optional in requirements.values_list("skill_id", "min_level", "optional"):
        known = needed.get(skill_id)
        if known is None:
            needed[skill_id] = {"skill": skill_id, "level": level, "optional": optional}
        else:  # the stricter of the two
            known["level"] = max(known["level"], level)
            known["optional"] = known["optional"] and optional
    return sorted(needed.values(), key=lambda s: s["skill"])


def advisor_for(conversation: Conversation, rules: RoutingSettings) -> Membership | None:
    """The agent the customer's conversations go to first: named, else the last who handled one."""
    if rules.advisor_mode == AdvisorMode.OFF:
        return None
    advisor = conversation.customer.advisor
    if advisor is not None:
        return advisor if advisor.is_active else None
    if rules.advisor_mode != AdvisorMode.NAMED_OR_LAST:
        return None
    return (
        Membership.objects.select_related("user")
        .filter(
            assigned_conversations__customer_id=conversation.customer_id,
            assigned_conversations__brand_id=conversation.brand_id,
            is_active=True,
        )
        .exclude(assigned_conversations__pk=conversation.pk)
        .order_by("-assigned_conversations__last_message_at")
        .first()
    )


def queue_conversation(
    conversation: Conversation,
    *,
    team: Team | None,
    intent_id: int | None = None,
    language: str = "",
    now: datetime | None = None,
) -> QueueEntry:
    """Put the conversation (locked by the caller) in the router's queue, or update its entry.

    Queued again (a second handoff), it keeps its place: ``queued_at`` is its first.
    """
    now = now or clock.now()
    rules = routing_settings(conversation.brand_id)
    advisor = advisor_for(conversation, rules)
    values = {
        "brand_id": conversation.brand_id,
        "team": team,
        "channel": conversation.channel,
        "language": (language or conversation.customer.language or "")[:8].lower(),
        "skills": required_skills(conversation.brand_id, intent_id, conversation.channel),
        "advisor": advisor,
    }
    entry = QueueEntry.objects.filter(conversation=conversation).first()
    if entry is None:
        return QueueEntry.objects.create(
            conversation=conversation,
            queued_at=now,
            advisor_until=now + timedelta(seconds=rules.advisor_wait_seconds),
            **values,
        )
    for field, value in values.items():
        setattr(entry, field, value)
    entry.save()
    return entry


# Scoring


def score(entry: QueueEntry, rules: RoutingSettings, now: datetime, at_risk: set[int]) -> float:
    """Minutes waited plus the weights (VIP, priority, SLA at risk), in minutes."""
    conversation = entry.conversation
    minutes = (now - entry.queued_at).total_seconds() / 60
    if conversation.customer.is_vip:
        minutes += rules.vip_weight_minutes
    if conversation.priority >= Priority.URGENT:
        minutes += rules.urgent_weight_minutes
    elif conversation.priority >= Priority.HIGH:
        minutes += rules.high_weight_minutes
    if entry.conversation_id in at_risk:
        minutes += rules.sla_risk_weight_minutes
    return minutes


# The decision


def assign_next(
    brand_id: int,
    *,
    now: datetime | None = None,
    conversation_id: int | None = None,
    actor: Actor = SYSTEM,
    limit: int = SCAN_LIMIT,
) -> list[Decision]:
    """Give the brand's waiting conversations to whoever may take them now; the decisions made.

    ``conversation_id``: decide for that one only (a handoff, from ``route_to_person``).
    Safe to run in several processes at once (see the module doc).
    """
    now = now or clock.now()
    rules = routing_settings(brand_id)
    entries = QueueEntry.objects.filter(brand_id=brand_id).select_related("conversation__customer")
    if conversation_id is not None:
        entries = entries.filter(conversation_id=conversation_id)
    waiting = list(entries.order_by("queued_at", "pk")[:SCAN_LIMIT])
    if not waiting:
        return []
    free = free_members(brand_id, rules, now)
    waiting = [entry for entry in waiting if free.get(channel_group(entry.channel))]
    if not waiting:
        return []  # every agent busy or away: nothing to decide, no transaction opened
    at_risk = hooks.sla_at_risk([entry.conversation_id for entry in waiting])
    waiting.sort(key=lambda entry: -score(entry, rules, now, at_risk))
    decisions: list[Decision] = []
    full: set[tuple[int, str]] = set()  # (team, channel group) with nobody free this run
    # Business hours read once per team and run, not once per waiting conversation.
    team_is_open = functools.cache(hooks.team_is_open)
    # Advisors first: an agent who is free takes their own waiting customer before the
    # line does (the continuity the customer came back for); then the line, in order.
    advised = [entry for entry in waiting if entry.advisor_id in free[channel_group(entry.channel)]]
    given: dict[str, int] = defaultdict(int)  # slots given out this run, per channel group
    decided: set[int] = set()

    def passes_to_the_line(entry: QueueEntry) -> bool:
        """Would the free slots go to conversations behind ``entry`` if it held on?"""
        return passes_to_the_line_of(entry, waiting, decided, free, given, rules, now)

    for advisor_only, entries in ((True, advised), (False, waiting)):
        for entry in entries:
            if len(decisions) >= limit:
                return decisions
            if entry.conversation_id in decided:
                continue
            decision = _decide(
                entry,
                rules,
                now,
                actor,
                full,
                team_is_open,
                advisor_only=advisor_only,
                passes_to_the_line=passes_to_the_line,
            )
            if decision is not None:
                decisions.append(decision)
                decided.add(decision.conversation_id)
                given[channel_group(entry.channel)] += 1
    return decisions


def passes_to_the_line_of(
    entry: QueueEntry,
    line: list[QueueEntry],
    decided: set[int],
    free: dict[str, dict[int, int]],
    given: dict[str, int],
    rules: RoutingSettings,
    now: datetime,
) -> bool:
    """True when as many conversations behind ``entry`` would take a free slot as there are.

    Then ``entry`` may keep waiting for its advisor at no cost to the line: the slot it
    passes is not left idle, someone behind takes it (with exponential handle times any
    order that never idles a slot gives the same average wait). Behind: later in the
    run's order, same team and channel group, not yet given out, and not waiting for an
    advisor of their own (or their advisor free: they take a slot too). The free slots
    are the brand's in the channel group (a superset for a brand of several teams: then
    the entry holds on less often, never more).
    """
    if entry.team_id is None:
        return False  # a queue without a team: nobody behind takes a team member's slot
    group = channel_group(entry.channel)
    slots = sum(free.get(group, {}).values()) - given[group]
    takers = 0
    seen = False
    for other in line:
        if other.pk == entry.pk:
            seen = True
            continue
        if (
            not seen
            or other.conversation_id in decided
            or other.team_id != entry.team_id
            or channel_group(other.channel) != group
        ):
            continue
        if (
            other.advisor_id is None
            or other.advisor_id in free[group]
            or not _holds_for_advisor(other, rules, now)
        ):
            takers += 1
            if takers >= slots:
                return True
    return takers >= slots


def _holds_for_advisor(entry: QueueEntry, rules: RoutingSettings, now: datetime) -> bool:
    """Whether ``entry`` is still within one of its advisor's waits (by the clock alone)."""
    waited = (now - entry.queued_at).total_seconds()
    within_extra = entry.advisor_until is not None and now < entry.advisor_until
    return within_extra or waited < rules.advisor_line_wait_seconds


def free_members(brand_id: int, rules: RoutingSettings, now: datetime) -> dict[str, dict[int, int]]:
    """Per channel group, the agents of the brand who could take a conversation now: spare slots.

    Read once per run, before any lock: a saturated line (everyone busy, the usual
    state when conversations wait) costs three queries instead of a transaction per
    waiting conversation. A superset is safe: each decision checks again under its locks.
    """
    members = list(
        Membership.objects.select_related("user").filter(brand_id=brand_id, is_active=True)
    )
    available = [member for member in members if member.is_available(now)]
    free: dict[str, dict[int, int]] = {group: {} for group in ChannelGroup.values}
    if not available:
        return free
    profiles = profiles_of(available)
    loads = loads_of(brand_id, [member.pk for member in available])
    for member in available:
        profile = profiles[member.pk]
        for group in ChannelGroup.values:
            spare = spare_capacity(profile, loads[member.pk], group, rules)
            if spare > 0:
                free[group][member.pk] = spare
    return free


def _decide(
    queued: QueueEntry,
    rules: RoutingSettings,
    now: datetime,
    actor: Actor,
    full: set[tuple[int, str]],
    team_is_open: Callable[[int], bool],
    *,
    advisor_only: bool = False,
    passes_to_the_line: Callable[[QueueEntry], bool] | None = None,
) -> Decision | None:
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(skip_locked=True, of=("self",), no_key=True)
            .select_related("customer", "team")
            .filter(pk=queued.conversation_id)
            .first()
        )
        if conversation is None:  # being changed by someone else: next run
            return None
        entry = (
            QueueEntry.objects.select_related("advisor__user", "team").filter(pk=queued.pk).first()
        )
        if entry is None:
            return None
        if conversation.status == Status.RESOLVED or conversation.assignee_id is not None:
            entry.delete()
            return None
        waited = max(0, int((now - entry.queued_at).total_seconds()))
        group = channel_group(entry.channel)
        advisor = entry.advisor
        if advisor is not None:
            chosen = _first_free([advisor], entry, group, rules, now, skills=None)
            if chosen is not None:
                reason = Reason.ADVISOR
                return _assign(conversation, entry, chosen, None, reason, waited, now, actor)
            if _worth_waiting(advisor, now):
                if entry.advisor_until and now < entry.advisor_until:
                    return None  # the extra wait: a free slot elsewhere may stay idle meanwhile
                if (
                    not advisor_only
                    and passes_to_the_line is not None
                    and waited < rules.advisor_line_wait_seconds
                    and passes_to_the_line(entry)
                ):
                    return None  # someone behind takes the free slot: nothing left idle
        if advisor_only:
            return None
        team = entry.team
        if team is None or not team.auto_assign or not team_is_open(team.pk):
            return None
        optional = any(skill["optional"] for skill in entry.skills)
        required = [skill for skill in entry.skills if not skill["optional"]]
        stages: list[tuple[Team, list[dict[str, Any]], Reason]] = [
            (team, entry.skills, Reason.SKILLS)
        ]
        if optional and waited >= rules.drop_optional_after_seconds:
            stages.append((team, required, Reason.WIDENED))
        if waited >= rules.overflow_after_seconds:
            overflow = _overflow_team(team)
            if overflow is not None and team_is_open(overflow.pk):
                stages.append((overflow, required, Reason.OVERFLOW))
        for stage_team, skills, reason in stages:
            if (stage_team.pk, group) in full:
                continue
            members = _members(stage_team, conversation.brand_id)
            chosen = _first_free(members, entry, group, rules, now, skills=skills)
            if chosen is not None:
                new_team = stage_team if reason == Reason.OVERFLOW else None
                return _assign(conversation, entry, chosen, new_team, reason, waited, now, actor)
            if not skills and not entry.language:
                # Nobody of the team could take this channel, whatever was asked: the
                # conversations behind this one in the same queue need not be tried.
                full.add((stage_team.pk, group))
    return None


def _worth_waiting(advisor: Membership, now: datetime) -> bool:
    """Online and working (available but full, or busy): likely free soon. Away or gone: no."""
    return (
        advisor.is_active
        and advisor.user.is_active
        and advisor.is_online(now)
        and advisor.availability in (Availability.AVAILABLE, Availability.BUSY)
    )


def _overflow_team(team: Team) -> Team | None:
    routing = TeamRouting.objects.select_related("overflow_team").filter(team=team).first()
    return routing.overflow_team if routing is not None else None


def _members(team: Team, brand_id: int) -> list[Membership]:
    return list(team.members.filter(brand_id=brand_id).select_related("user").order_by("pk"))


def profiles_of(members: list[Membership]) -> dict[int, AgentProfile]:
    """Every member's profile for reading, in one query; unsaved defaults where none exists."""
    found = {p.membership_id: p for p in AgentProfile.objects.filter(membership__in=members)}
    return {
        m.pk: found.get(m.pk) or AgentProfile(membership=m, brand_id=m.brand_id) for m in members
    }


def _profiles(members: list[Membership]) -> dict[int, AgentProfile]:
    """Every member's profile, created (empty: the brand's defaults) where missing."""
    ids = [member.pk for member in members]
    profiles = {p.membership_id: p for p in AgentProfile.objects.filter(membership_id__in=ids)}
    missing = [m for m in members if m.pk not in profiles]
    if missing:
        AgentProfile.objects.bulk_create(
            [AgentProfile(membership=m, brand_id=m.brand_id) for m in missing],
            ignore_conflicts=True,
        )
        profiles.update(
            (p.membership_id, p)
            for p in AgentProfile.objects.filter(membership_id__in=[m.pk for m in missing])
        )
    return profiles


def loads_of(brand_id: int, member_ids: list[int]) -> dict[int, dict[str, int]]:
    """Open (not resolved) conversations of the brand each agent holds, per channel group."""
    loads: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        Conversation.objects.filter(
            brand_id=brand_id, assignee_id__in=member_ids, status__in=OPEN_STATUSES
        )
        .values_list("assignee_id", "channel")
        .annotate(count=Count("pk"))
        .order_by()
    )
    for assignee_id, channel, count in rows:
        loads[assignee_id][channel_group(channel)] += count
    return loads


def spare_capacity(
    profile: AgentProfile, loads: dict[str, int], group: str, rules: RoutingSettings
) -> int:
    """How many more conversations of ``group`` the agent may take now (≤ 0: none)."""
    spare = profile.capacity(group, rules) - loads.get(group, 0)
    if rules.call_takes_whole_capacity:
        if group == ChannelGroup.CALL and sum(loads.values()) > loads.get(group, 0):
            return 0  # a call needs the agent free of everything else
        if group != ChannelGroup.CALL and loads.get(ChannelGroup.CALL, 0) > 0:
            return 0  # on a call: nothing else
    return spare


def _qualified(
    member: Membership,
    profile: AgentProfile,
    held: dict[int, int],
    entry: QueueEntry,
    skills: list[dict[str, Any]],
) -> bool:
    languages = profile.language_set()
    if entry.language and languages and entry.language not in languages:
        return False
    return all(held.get(skill["skill"], 0) >= skill["level"] for skill in skills)


_NEVER = datetime.min.replace(tzinfo=UTC)


def _first_free(
    members: list[Membership],
    entry: QueueEntry,
    group: str,
    rules: RoutingSettings,
    now: datetime,
    *,
    skills: list[dict[str, Any]] | None,
) -> Membership | None:
    """The best member free for this conversation, locked; None when nobody is.

    ``skills`` None: no skill nor language asked (the customer's own advisor).
    Loads are read once to rank, then again for the chosen one under its lock.
    """
    available = [m for m in members if m.is_available(now)]
    if not available:
        return None
    profiles = _profiles(available)
    if skills is not None:
        held: dict[int, dict[int, int]] = defaultdict(dict)
        needed = [skill["skill"] for skill in skills]
        if needed:
            for member_id, skill_id, level in AgentSkill.objects.filter(
                membership_id__in=[m.pk for m in available], skill_id__in=needed
            ).values_list("membership_id", "skill_id", "level"):
                held[member_id][skill_id] = level
        available = [
            m for m in available if _qualified(m, profiles[m.pk], held[m.pk], entry, skills)
        ]
    loads = loads_of(entry.brand_id, [m.pk for m in available])
    ranked = []
    for member in available:
        profile = profiles[member.pk]
        spare = spare_capacity(profile, loads[member.pk], group, rules)
        if spare > 0:
            ranked.append((-spare, profile.last_assigned_at or _NEVER, member.pk, member))
    ranked.sort(key=lambda row: row[:3])
    for _spare, _idle, member_id, member in ranked:
        locked = (
            AgentProfile.objects.select_for_update(skip_locked=True)
            .filter(membership_id=member_id)
            .first()
        )
        if locked is None:  # another process is giving them work right now
            continue
        fresh = loads_of(entry.brand_id, [member_id])[member_id]
        if spare_capacity(locked, fresh, group, rules) > 0:
            return member
    return None


def _assign(
    conversation: Conversation,
    entry: QueueEntry,
    assignee: Membership,
    team: Team | None,
    reason: Reason,
    waited: int,
    now: datetime,
    actor: Actor,
) -> Decision:
    conversation.assignee = assignee
    if team is not None:
        conversation.team = team
    conversation.save(update_fields=["assignee", "team"])
    conversation_changed(
        conversation, actor=actor, status_changed=False, notify_agent_id=assignee.pk
    )
    append_event(
        conversation.brand_id,
        kinds.CONVERSATION_ASSIGNED,
        {
            "conversation_id": conversation.pk,
            "assignee_id": assignee.pk,
            "team_id": conversation.team_id,
            "previous_assignee_id": None,
            "reason": str(reason),
            "waited_seconds": waited,
            "assigned_at": now.isoformat(),
        },
        actor=actor,
        conversation=conversation,
    )
    AgentProfile.objects.filter(membership_id=assignee.pk).update(last_assigned_at=now)
    entry.delete()
    return Decision(conversation.pk, assignee.pk, conversation.team_id, reason, waited)
