"""The supervisor's live board: lines, waits, SLA risks, agents' load, and acting from it."""

import pytest
from django.urls import reverse

from comptoir.conversations.models import Conversation, Priority
from comptoir.customers.models import Customer
from comptoir.events.models import Event
from comptoir.routing.board import board_of
from comptoir.routing.models import QueueEntry
from comptoir.tenancy.models import Role, Team
from tests.factories import make_agent
from tests.test_router import holding, online, team_of, waiting_in


@pytest.fixture
def supervisor(brand):
    return make_agent(brand, Role.SUPERVISOR, first_name="Julien")


def logged_in(client, membership):
    client.force_login(membership.user)
    return client


def test_the_board_shows_each_line_in_the_routers_order_and_each_agents_load(brand, agent):
    team = team_of(brand, online(agent))
    holding(agent, 3)
    older, vip = waiting_in(team, brand), waiting_in(team, brand)
    Customer.objects.filter(pk=vip.customer_id).update(is_vip=True)

    board = board_of(brand.pk)
    [line] = board.lines
    assert (line.team, line.group, line.count) == (team, "chat", 2)
    assert [w.conversation.pk for w in line.waiting] == [vip.pk, older.pk]  # VIP ahead
    assert board.waiting_count == 2
    [row] = [r for r in board.agents if r.membership == agent]
    assert row.presence == "available"  # full for chats, not for e-mails
    chat = next(load for load in row.loads if load.group == "chat")
    assert (chat.load, chat.capacity) == (3, 3)


def test_a_supervisor_sees_the_board_an_agent_does_not(client, brand, agent, supervisor):
    team = team_of(brand, agent)
    waiting = waiting_in(team, brand)
    page = logged_in(client, supervisor).get(reverse("routing:board"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-conversation-id="{waiting.pk}"' in html
    assert "1 conversation waiting" in html
    fragment = client.get(reverse("routing:board_fragment"))
    assert fragment.status_code == 200 and 'id="board"' in fragment.content.decode()
    client.logout()
    assert logged_in(client, agent).get(reverse("routing:board")).status_code == 403


def test_the_board_speaks_french(client, brand, agent, supervisor):
    waiting_in(team_of(brand, agent), brand)
    client.cookies["django_language"] = "fr"
    html = logged_in(client, supervisor).get(reverse("routing:board")).content.decode()
    assert "Tableau en direct" in html and "1 conversation en attente" in html


def test_from_the_board_a_supervisor_assigns_moves_and_reprioritises(
    client, brand, agent, colleague, supervisor
):
    team = team_of(brand, agent)
    other = Team.objects.create(brand=brand, name="Boutiques")
    first, second, third = (waiting_in(team, brand) for _ in range(3))
    logged_in(client, supervisor)

    answer = client.post(
        reverse("routing:board_assign", args=[first.pk]), {"assignee": colleague.pk}
    )
    assert answer.status_code == 302
    assert Conversation.objects.get(pk=first.pk).assignee == colleague
    assert not QueueEntry.objects.filter(conversation=first).exists()
    assigned = Event.objects.filter(kind="conversation.assigned", conversation=first).last()
    assert (assigned.payload["reason"], assigned.actor_id) == ("manual", supervisor.pk)

    client.post(reverse("routing:board_move", args=[second.pk]), {"team": other.pk})
    assert Conversation.objects.get(pk=second.pk).team == other
    assert QueueEntry.objects.get(conversation=second).team == other

    client.post(reverse("routing:board_priority", args=[third.pk]), {"priority": Priority.URGENT})
    assert Conversation.objects.get(pk=third.pk).priority == Priority.URGENT
    client.post(reverse("routing:board_priority", args=[third.pk]), {"priority": Priority.LOW})
    assert Conversation.objects.get(pk=third.pk).priority == Priority.LOW  # down as well
    refused = client.post(reverse("routing:board_priority", args=[third.pk]), {"priority": "9"})
    assert refused.status_code == 302
    assert Conversation.objects.get(pk=third.pk).priority == Priority.LOW


def test_another_brands_conversations_agents_and_teams_are_not_found(
    client, brand, other_brand, agent, supervisor
):
    theirs = waiting_in(team_of(other_brand, make_agent(other_brand)), other_brand)
    mine = waiting_in(team_of(brand, agent), brand)
    outsider = make_agent(other_brand)
    their_team = Team.objects.create(brand=other_brand, name="Rival")
    logged_in(client, supervisor)
    assert client.get(reverse("routing:board")).content.decode().count("data-conversation-id") == 1
    url = reverse("routing:board_assign", args=[theirs.pk])
    assert client.post(url, {"assignee": agent.pk}).status_code == 404
    url = reverse("routing:board_assign", args=[mine.pk])
    assert client.post(url, {"assignee": outsider.pk}).status_code == 404
    assert client.post(url, {"assignee": "9" * 25}).status_code == 404  # beyond a bigint
    url = reverse("routing:board_move", args=[mine.pk])
    assert client.post(url, {"team": their_team.pk}).status_code == 404
    assert Conversation.objects.get(pk=mine.pk).assignee is None
