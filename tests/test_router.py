"""The router (``routing.assign_next``): advisor first, skills and language, widening, capacity,
priority, the events that run it, and no double assignment nor over-capacity under concurrency.

Time is passed to the router (``now``) instead of waited for: a conversation "waits"
61 s by deciding at ``queued_at + 61 s``.
"""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone

from comptoir.conversations.actions import resolve_conversation
from comptoir.conversations.models import Channel, Conversation, Priority, Status
from comptoir.customers.actions import set_advisor
from comptoir.customers.models import Customer
from comptoir.events.models import Event
from comptoir.routing import hooks
from comptoir.routing.assignment import (
    Routing,
    assign_conversation,
    route_to_person,
    transfer_to_team,
)
from comptoir.routing.models import (
    AgentProfile,
    AgentSkill,
    QueueEntry,
    RoutingSettings,
    Skill,
    SkillRequirement,
    TeamRouting,
)
from comptoir.routing.presence import presence_of, set_availability, set_inactive_agents_away
from comptoir.routing.router import Reason, assign_next
from comptoir.tasks import run_pending
from comptoir.tenancy.models import Availability, Membership, Role, Team
from tests.factories import ingest_chat, make_agent, make_brand
from tests.sla_helpers import office_calendar, office_policy, paris


def online(membership: Membership, at=None) -> Membership:
    """The console pinged (at ``at``: a decision made later must still see it open)."""
    Membership.objects.filter(pk=membership.pk).update(last_seen_at=at or timezone.now())
    membership.refresh_from_db()
    return membership


def team_of(brand, *members: Membership, name: str = "Service client") -> Team:
    team = Team.objects.create(brand=brand, name=name, auto_assign=True)
    team.members.add(*members)
    return team


def new_conversation(brand, channel: str = Channel.WEBCHAT) -> Conversation:
    conversation = ingest_chat(brand, "Bonjour").conversation
    if channel != Channel.WEBCHAT:
        Conversation.objects.filter(pk=conversation.pk).update(channel=channel)
    return Conversation.objects.select_related("customer").get(pk=conversation.pk)


def holding(membership: Membership, count: int, channel: str = Channel.WEBCHAT) -> None:
    for _ in range(count):
        conversation = new_conversation(membership.brand, channel)
        Conversation.objects.filter(pk=conversation.pk).update(assignee=membership)


def state(conversation: Conversation) -> Conversation:
    return Conversation.objects.select_related("assignee", "team").get(pk=conversation.pk)


def reasons(brand) -> list[tuple[int, int | None, str]]:
    return [
        (e.payload["conversation_id"], e.payload["assignee_id"], e.payload["reason"])
        for e in Event.objects.filter(brand=brand, kind="conversation.assigned").order_by("id")
    ]


def waiting_in(team: Team, brand) -> Conversation:
    """A handoff to ``team`` that nobody could take yet: it waits in the router's queue."""
    conversation = new_conversation(brand)
    assert route_to_person(None, conversation, team=team) == Routing.TEAM
    assert QueueEntry.objects.filter(conversation=conversation).exists()
    return conversation


def later(conversation: Conversation, seconds: int):
    return QueueEntry.objects.get(conversation=conversation).queued_at + timedelta(seconds=seconds)


# The advisor


def test_the_named_advisor_gets_it_and_the_reason_says_so(brand, agent, admin):
    conversation = new_conversation(brand)
    set_advisor(admin, conversation.customer, online(agent))
    assert route_to_person(None, conversation) == Routing.ADVISOR
    assert state(conversation).assignee == agent
    assert reasons(brand) == [(conversation.pk, agent.pk, "advisor")]
    assert not QueueEntry.objects.exists()


def test_without_a_named_advisor_the_agent_who_last_handled_the_customer_comes_first(
    brand, agent, colleague
):
    first = ingest_chat(brand, "Bonjour", visitor_id="a" * 32).conversation
    assign_conversation(colleague, first, online(agent))
    resolve_conversation(agent, first)
    again = ingest_chat(brand, "Re-bonjour", visitor_id="a" * 32).conversation
    assert again.pk != first.pk
    online(colleague)
    team = team_of(brand, colleague)
    assert route_to_person(None, again, team=team) == Routing.LAST_AGENT
    assert state(again).assignee == agent

    # A brand may name advisors only.
    RoutingSettings.objects.create(brand=brand, advisor_mode="named")
    third = ingest_chat(brand, "Encore", visitor_id="b" * 32).conversation
    assign_conversation(colleague, third, agent)
    resolve_conversation(agent, third)
    fourth = ingest_chat(brand, "Toujours", visitor_id="b" * 32).conversation
    assert route_to_person(None, fourth, team=team) == Routing.TEAM_MEMBER
    assert state(fourth).assignee == colleague


def test_a_busy_advisor_is_waited_for_then_the_team_takes_it(brand, agent, colleague, admin):
    online(agent)
    holding(agent, 3)  # full: 3 chats
    member = online(colleague)
    conversation = new_conversation(brand)
    set_advisor(admin, conversation.customer, agent)
    team = team_of(brand, member)
    assert route_to_person(None, conversation, team=team) == Routing.TEAM
    assert state(conversation).assignee is None  # the advisor may be free within 20 s

    assert assign_next(brand.pk, now=later(conversation, 15)) == []
    # Nobody else waits: the colleague's free chat would stay idle, the extra wait is all.
    [decision] = assign_next(brand.pk, now=later(conversation, 21))
    assert (decision.assignee_id, decision.reason) == (member.pk, Reason.SKILLS)
    assert state(conversation).assignee == member


def test_a_busy_advisor_freed_within_the_wait_gets_it(brand, agent, colleague, admin):
    online(agent)
    holding(agent, 3)
    conversation = new_conversation(brand)
    set_advisor(admin, conversation.customer, agent)
    route_to_person(None, conversation, team=team_of(brand, online(colleague)))
    held = Conversation.objects.filter(assignee=agent).first()
    resolve_conversation(agent, held)
    run_pending()  # the resolution frees the advisor: the router runs
    assert state(conversation).assignee == agent
    assert reasons(brand)[-1] == (conversation.pk, agent.pk, "advisor")


def test_a_freed_advisor_takes_their_own_customer_before_the_line(brand, agent, admin):
    team = team_of(brand, online(agent))
    holding(agent, 3)
    older = waiting_in(team, brand)  # waiting longer, no advisor
    returning = new_conversation(brand)
    set_advisor(admin, returning.customer, agent)
    route_to_person(None, returning, team=team)
    assert assign_next(brand.pk) == []  # the advisor is full
    held = Conversation.objects.filter(assignee=agent).first()
    Conversation.objects.filter(pk=held.pk).update(status=Status.RESOLVED)
    [decision] = assign_next(brand.pk)  # one chat freed
    assert (decision.conversation_id, decision.reason) == (returning.pk, Reason.ADVISOR)
    assert QueueEntry.objects.filter(conversation=older).exists()  # next free chat is theirs


def test_a_returning_customer_lets_the_line_take_free_agents_while_waiting_for_the_advisor(
    brand, agent, colleague, admin
):
    RoutingSettings.objects.create(
        brand=brand, advisor_wait_seconds=20, advisor_line_wait_seconds=60
    )
    online(agent)
    holding(agent, 3)  # the advisor is full
    member = online(colleague)
    holding(member, 3)
    team = team_of(brand, member)
    returning = new_conversation(brand)
    set_advisor(admin, returning.customer, agent)
    assert route_to_person(None, returning, team=team) == Routing.TEAM
    first = waiting_in(team, brand)
    second = waiting_in(team, brand)

    def free_a_chat_of(membership: Membership) -> None:
        held = Conversation.objects.filter(assignee=membership).exclude(status=Status.RESOLVED)
        Conversation.objects.filter(pk=held.first().pk).update(status=Status.RESOLVED)

    # Past the extra wait, but the free chat goes to the next in line: none left idle.
    free_a_chat_of(member)
    [decision] = assign_next(brand.pk, now=later(returning, 30))
    assert (decision.conversation_id, decision.assignee_id) == (first.pk, member.pk)
    assert state(returning).assignee is None

    # The advisor frees a chat: their own customer takes it, before the line.
    free_a_chat_of(agent)
    [decision] = assign_next(brand.pk, now=later(returning, 45))
    assert (decision.conversation_id, decision.reason) == (returning.pk, Reason.ADVISOR)
    assert state(second).assignee is None


def test_past_the_line_wait_a_returning_customer_takes_a_free_agent(brand, agent, colleague, admin):
    RoutingSettings.objects.create(
        brand=brand, advisor_wait_seconds=20, advisor_line_wait_seconds=60
    )
    online(agent)
    holding(agent, 3)
    member = online(colleague)
    holding(member, 3)
    team = team_of(brand, member)
    returning = new_conversation(brand)
    set_advisor(admin, returning.customer, agent)
    route_to_person(None, returning, team=team)
    behind = waiting_in(team, brand)
    held = Conversation.objects.filter(assignee=member).first()
    Conversation.objects.filter(pk=held.pk).update(status=Status.RESOLVED)
    [decision] = assign_next(brand.pk, now=later(returning, 61))
    assert (decision.conversation_id, decision.assignee_id) == (returning.pk, member.pk)
    assert decision.reason == Reason.SKILLS
    assert state(behind).assignee is None


def test_an_away_advisor_is_not_waited_for(brand, agent, colleague, admin):
    online(agent)
    set_availability(agent, Availability.AWAY, actor=agent)
    conversation = new_conversation(brand)
    set_advisor(admin, conversation.customer, agent)
    assert route_to_person(None, conversation, team=team_of(brand, online(colleague))) == (
        Routing.TEAM_MEMBER
    )
    assert state(conversation).assignee == colleague


# Skills, language, widening


def test_skills_and_language_choose_among_members(brand):
    billing = Skill.objects.create(brand=brand, name="facturation")
    SkillRequirement.objects.create(brand=brand, skill=billing, channel=Channel.EMAIL, min_level=3)
    novice, expert_en, expert_fr = (online(make_agent(brand)) for _ in range(3))
    AgentSkill.objects.create(membership=novice, skill=billing, level=2)
    AgentSkill.objects.create(membership=expert_en, skill=billing, level=5)
    AgentSkill.objects.create(membership=expert_fr, skill=billing, level=4)
    AgentProfile.objects.create(membership=expert_en, brand=brand, languages="en")
    AgentProfile.objects.create(membership=expert_fr, brand=brand, languages="fr,es")
    team = team_of(brand, novice, expert_en, expert_fr)

    mail = new_conversation(brand, Channel.EMAIL)
    assert route_to_person(None, mail, team=team, language="fr") == Routing.TEAM_MEMBER
    assert state(mail).assignee == expert_fr
    english = new_conversation(brand, Channel.EMAIL)
    route_to_person(None, english, team=team, language="en")
    assert state(english).assignee == expert_en
    chat = new_conversation(brand)  # no skill asked on chat: the least loaded, novice
    route_to_person(None, chat, team=team, language="fr")
    assert state(chat).assignee == novice


def test_optional_skills_are_dropped_then_the_overflow_team_takes_it(brand):
    vip_care = Skill.objects.create(brand=brand, name="vip")
    SkillRequirement.objects.create(
        brand=brand, skill=vip_care, channel=Channel.WEBCHAT, optional=True
    )
    RoutingSettings.objects.create(
        brand=brand, drop_optional_after_seconds=120, overflow_after_seconds=300
    )
    member = make_agent(brand)  # console closed for now
    team = team_of(brand, member)
    conversation = waiting_in(team, brand)
    online(member, at=later(conversation, 60))
    assert assign_next(brand.pk, now=later(conversation, 60)) == []  # lacks the optional skill
    online(member, at=later(conversation, 121))
    [decision] = assign_next(brand.pk, now=later(conversation, 121))
    assert (decision.assignee_id, decision.reason) == (member.pk, Reason.WIDENED)

    # Overflow: the team has nobody; after 300 s its overflow team's members.
    helper = online(make_agent(brand))
    overflow = team_of(brand, helper, name="Renfort")
    empty = team_of(brand, name="Boutiques")
    TeamRouting.objects.create(team=empty, overflow_team=overflow)
    other = waiting_in(empty, brand)
    online(helper, at=later(other, 200))
    assert assign_next(brand.pk, now=later(other, 200)) == []
    online(helper, at=later(other, 301))
    [decision] = assign_next(brand.pk, now=later(other, 301))
    assert (decision.assignee_id, decision.reason) == (helper.pk, Reason.OVERFLOW)
    assert (state(other).assignee, state(other).team) == (helper, overflow)
    assert reasons(brand)[-1] == (other.pk, helper.pk, "overflow")


# Capacity


def test_capacity_per_channel_with_an_agents_override(brand, agent):
    RoutingSettings.objects.create(brand=brand, email_capacity=2)
    AgentProfile.objects.create(membership=agent, brand=brand, chat_capacity=1)
    online(agent)
    team = team_of(brand, agent)
    holding(agent, 1)  # one chat: full on chat (override 1), free on e-mail (2)
    assert route_to_person(None, new_conversation(brand), team=team) == Routing.TEAM
    mails = [new_conversation(brand, Channel.EMAIL) for _ in range(3)]
    routed = [route_to_person(None, mail, team=team) for mail in mails]
    assert routed == [Routing.TEAM_MEMBER, Routing.TEAM_MEMBER, Routing.TEAM]
    assert Conversation.objects.filter(assignee=agent, channel=Channel.EMAIL).count() == 2


def test_a_call_takes_the_whole_capacity(brand, agent, colleague):
    online(agent)
    online(colleague)
    team = team_of(brand, agent, colleague)
    holding(agent, 1, Channel.PHONE)
    holding(colleague, 1)
    # On a call: no chat for the agent; a call needs someone free of everything.
    assert route_to_person(None, new_conversation(brand), team=team) == Routing.TEAM_MEMBER
    assert Conversation.objects.filter(assignee=colleague).count() == 2
    assert route_to_person(None, new_conversation(brand, Channel.PHONE), team=team) == Routing.TEAM

    RoutingSettings.objects.create(brand=brand, call_takes_whole_capacity=False)
    assert route_to_person(None, new_conversation(brand, Channel.PHONE), team=team) == (
        Routing.TEAM_MEMBER
    )
    assert presence_of(agent) == "available"


# Priority


def test_vip_and_urgent_go_first_then_the_longest_waiting(brand):
    member = make_agent(brand)
    AgentProfile.objects.create(membership=member, brand=brand, chat_capacity=1)
    team = team_of(brand, member)
    oldest = waiting_in(team, brand)
    vip = waiting_in(team, brand)
    Customer.objects.filter(pk=vip.customer_id).update(is_vip=True)
    online(member)
    [decision] = assign_next(brand.pk)
    assert decision.conversation_id == vip.pk

    # Freed: an urgent one queued last goes before the oldest.
    urgent = waiting_in(team, brand)
    Conversation.objects.filter(pk=urgent.pk).update(priority=Priority.URGENT)
    Conversation.objects.filter(pk=vip.pk).update(status=Status.RESOLVED)
    [decision] = assign_next(brand.pk)
    assert decision.conversation_id == urgent.pk
    Conversation.objects.filter(pk=urgent.pk).update(status=Status.RESOLVED)
    [decision] = assign_next(brand.pk)
    assert decision.conversation_id == oldest.pk


# What runs the router


def test_an_agent_set_available_gets_the_waiting_conversation(brand, agent):
    online(agent)
    set_availability(agent, Availability.AWAY, actor=agent)
    conversation = waiting_in(team_of(brand, agent), brand)
    set_availability(agent, Availability.AVAILABLE, actor=agent)
    run_pending()
    assert state(conversation).assignee == agent


def test_new_conversations_on_a_routed_channel_are_routed_at_once(brand, agent):
    RoutingSettings.objects.create(brand=brand, route_new_channels="webchat")
    team = team_of(brand, online(agent))
    first = ingest_chat(brand, "Bonjour", visitor_id="c" * 32).conversation
    run_pending()
    assert state(first).assignee is None  # no team: waits in the brand's queue
    assert QueueEntry.objects.filter(conversation=first).exists()
    Conversation.objects.filter(pk=first.pk).update(team=team)
    QueueEntry.objects.filter(conversation=first).update(team=team)
    assign_next(brand.pk)
    assert state(first).assignee == agent


def test_manual_assignment_and_transfer_are_recorded(brand, agent, colleague):
    conversation = waiting_in(team_of(brand, make_agent(brand)), brand)
    assign_conversation(agent, conversation, agent)
    assert not QueueEntry.objects.exists()  # taken by hand: no longer waiting
    assign_conversation(agent, conversation, colleague)
    shops = team_of(brand, online(make_agent(brand)), name="Boutiques")
    moved = transfer_to_team(colleague, conversation, shops)
    assert moved.team == shops and moved.assignee is not None
    assert [r for _, _, r in reasons(brand)] == ["manual", "transfer", "transfer", "skills"]


# Presence


def test_an_inactive_agent_is_set_away_and_told_so(brand, agent):
    online(agent)
    assert set_inactive_agents_away() == []  # the clock starts
    later_on = timezone.now() + timedelta(minutes=16)
    Membership.objects.filter(pk=agent.pk).update(last_seen_at=later_on)
    assert set_inactive_agents_away(now=later_on) == [agent.pk]
    event = Event.objects.filter(kind="agent.availability_changed").latest("id")
    assert event.payload == {
        "membership_id": agent.pk,
        "availability": "away",
        "reason": "inactivity",
    }
    RoutingSettings.objects.create(brand=brand, away_after_minutes=0)  # never
    set_availability(agent, Availability.AVAILABLE, actor=agent)
    assert set_inactive_agents_away(now=later_on + timedelta(hours=2)) == []


def test_presence_says_offline_busy_away_available(brand, agent):
    assert presence_of(agent) == "offline"
    online(agent)
    assert presence_of(agent) == "available"
    assert presence_of(agent, at_capacity=True) == "busy"
    set_availability(agent, Availability.BUSY, actor=agent)
    assert presence_of(agent) == "busy" and not agent.is_available()
    set_availability(agent, Availability.OFFLINE, actor=agent)
    assert presence_of(agent) == "offline"


# Several processes at once


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite serialises writers; SKIP LOCKED is tested here"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_routers_never_assign_twice_nor_exceed_a_capacity():
    brand = make_brand("Concurrent")
    members = [online(make_agent(brand)) for _ in range(4)]
    team = team_of(brand, *members)  # 4 agents x 3 chats = 12 places
    admin = make_agent(brand, Role.ADMIN)
    for member in members:
        AgentProfile.objects.create(membership=member, brand=brand)
    conversations = []
    for _ in range(30):
        conversation = new_conversation(brand)
        Conversation.objects.filter(pk=conversation.pk).update(team=team)
        QueueEntry.objects.create(
            brand=brand,
            conversation=conversation,
            team=team,
            channel=Channel.WEBCHAT,
            queued_at=timezone.now(),
        )
        conversations.append(conversation)
    del admin
    workers = 4
    barrier = threading.Barrier(workers)
    errors: list[Exception] = []
    decided: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                decided.extend(d.conversation_id for d in assign_next(brand.pk))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    decided.extend(d.conversation_id for d in assign_next(brand.pk))  # what a lock skipped

    assert len(decided) == len(set(decided)) == 12  # each decided once, every place filled
    events = Event.objects.filter(brand=brand, kind="conversation.assigned")
    assert events.count() == 12
    loads = [Conversation.objects.filter(assignee=m).count() for m in members]
    assert loads == [3, 3, 3, 3]
    assert QueueEntry.objects.filter(brand=brand).count() == 18


# With the SLA app: business hours and risks reach the router through routing.hooks


def test_a_closed_team_is_not_offered_its_queue_until_it_opens(brand, agent):
    office_calendar(brand)  # Monday to Friday
    saturday, monday = paris(2031, 6, 7, 11), paris(2031, 6, 9, 9, 5)
    with time_machine.travel(saturday, tick=False):
        team = team_of(brand, online(agent, at=saturday))
        waiting = waiting_in(team, brand)
        assert assign_next(brand.pk, now=saturday) == []
    with time_machine.travel(monday, tick=False):
        online(agent, at=monday)
        [decision] = assign_next(brand.pk, now=monday)
    assert decision.conversation_id == waiting.pk


def test_conversations_at_risk_of_their_sla_are_weighed_first(brand):
    office_policy(brand)  # office hours; first response within 2 hours, at risk at 80 %
    with time_machine.travel(paris(2031, 6, 9, 9), tick=False):
        message = ingest_chat(brand, "Bonjour")
        run_pending()
    conversation = message.conversation
    with time_machine.travel(paris(2031, 6, 9, 10), tick=False):
        assert hooks.sla_at_risk([conversation.pk]) == set()
    with time_machine.travel(paris(2031, 6, 9, 10, 40), tick=False):
        assert hooks.sla_at_risk([conversation.pk]) == {conversation.pk}
