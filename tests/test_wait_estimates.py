"""What a waiting customer is told: their place in the router's line and the wait in seconds."""

from datetime import timedelta

import pytest
from django.utils import timezone

from comptoir.conversations.actions import resolve_conversation
from comptoir.conversations.models import Conversation, Priority
from comptoir.customers.models import Customer
from comptoir.routing.assignment import assign_conversation
from comptoir.routing.estimates import (
    DEFAULT_HANDLE_SECONDS,
    estimate_wait,
    forget_handle_times,
    mean_handle_seconds,
)
from comptoir.routing.models import AgentProfile, ChannelGroup, QueueEntry
from comptoir.routing.router import assign_next
from tests.factories import make_agent
from tests.test_router import holding, new_conversation, online, team_of, waiting_in


@pytest.fixture(autouse=True)
def _fresh_handle_times():
    forget_handle_times()
    yield
    forget_handle_times()


def test_no_line_no_estimate(brand):
    assert estimate_wait(new_conversation(brand).pk) is None


def test_place_and_wait_with_every_agent_busy(brand, agent, colleague):
    team = team_of(brand, online(agent), online(colleague))
    holding(agent, 3)
    holding(colleague, 3)  # the default chat capacity: nobody can take more
    first, second, third = (waiting_in(team, brand) for _ in range(3))

    estimate = estimate_wait(third.pk)
    assert (estimate.position, estimate.waiting, estimate.agents_available) == (3, 3, 2)
    # Six chats held at once; no history yet: the chat default. Three departures needed.
    handle = DEFAULT_HANDLE_SECONDS[ChannelGroup.CHAT]
    assert estimate.seconds == round(3 * handle / 6)
    assert estimate_wait(first.pk).position == 1
    assert estimate_wait(first.pk).seconds == round(handle / 6)
    assert estimate_wait(second.pk).as_dict() == {
        "position": 2,
        "waiting": 3,
        "estimated_wait_seconds": round(2 * handle / 6),
        "agents_available": 2,
    }


def test_the_line_is_the_routers_order_vip_and_urgent_pass_ahead(brand, agent):
    team = team_of(brand, online(agent))
    holding(agent, 3)
    older = waiting_in(team, brand)
    vip = waiting_in(team, brand)
    Customer.objects.filter(pk=vip.customer_id).update(is_vip=True)
    assert estimate_wait(vip.pk).position == 1
    assert estimate_wait(older.pk).position == 2
    urgent = waiting_in(team, brand)
    Conversation.objects.filter(pk=urgent.pk).update(priority=Priority.URGENT)
    # The default weights: urgent 15 minutes, VIP 10, so the urgent one goes first.
    assert [estimate_wait(c.pk).position for c in (urgent, vip, older)] == [1, 2, 3]


def test_capacity_counts_per_agent_and_channel(brand, agent, colleague):
    team = team_of(brand, online(agent), online(colleague))
    AgentProfile.objects.create(membership=agent, brand=brand, chat_capacity=1)
    holding(agent, 1)
    holding(colleague, 3)
    waiting = waiting_in(team, brand)
    handle = DEFAULT_HANDLE_SECONDS[ChannelGroup.CHAT]
    assert estimate_wait(waiting.pk).seconds == round(handle / 4)  # 1 + 3 chats at once


def test_nobody_available_gives_no_figure(brand, agent):
    team = team_of(brand, agent)  # console closed: not available
    waiting = waiting_in(team, brand)
    estimate = estimate_wait(waiting.pk)
    assert (estimate.position, estimate.seconds, estimate.agents_available) == (1, None, 0)


def test_handle_time_is_measured_from_the_lines_own_history(brand, agent, colleague):
    team = team_of(brand, online(agent), online(colleague))
    now = timezone.now()
    for minutes in (2, 4, 6):
        conversation = new_conversation(brand)
        Conversation.objects.filter(pk=conversation.pk).update(team=team)
        assign_conversation(colleague, conversation, agent)
        resolve_conversation(agent, conversation)
        Conversation.objects.filter(pk=conversation.pk).update(
            resolved_at=timezone.now() + timedelta(minutes=minutes)
        )
    later = now + timedelta(minutes=10)
    assert mean_handle_seconds(brand.pk, team.pk, ChannelGroup.CHAT, now=later) == pytest.approx(
        4 * 60, abs=5
    )
    # Another line (e-mail) has no history: its default.
    assert mean_handle_seconds(brand.pk, team.pk, ChannelGroup.EMAIL, now=later) == float(
        DEFAULT_HANDLE_SECONDS[ChannelGroup.EMAIL]
    )


def test_served_conversations_leave_the_line_and_the_others_move_up(brand, agent):
    team = team_of(brand, online(agent))
    holding(agent, 3)
    first, second = waiting_in(team, brand), waiting_in(team, brand)
    assert estimate_wait(second.pk).position == 2
    held = Conversation.objects.filter(assignee=agent).first()
    resolve_conversation(agent, held)
    assign_next(brand.pk)
    assert not QueueEntry.objects.filter(conversation=first).exists()
    assert estimate_wait(first.pk) is None
    assert estimate_wait(second.pk).position == 1


def test_another_brands_line_is_not_counted(brand, other_brand, agent):
    team = team_of(brand, online(agent))
    holding(agent, 3)
    outsider = online(make_agent(other_brand, "outsider-router"))
    other_team = team_of(other_brand, outsider, name="Autre")
    holding(outsider, 3)
    waiting_in(other_team, other_brand)
    waiting_in(other_team, other_brand)
    mine = waiting_in(team, brand)
    estimate = estimate_wait(mine.pk)
    assert (estimate.position, estimate.waiting, estimate.agents_available) == (1, 1, 1)
