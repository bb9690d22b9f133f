"""What a waiting customer is told: their place in the router's line and the wait in seconds."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from comptoir.conversations.actions import resolve_conversation
from comptoir.conversations.models import Channel, Conversation, Priority
from comptoir.customers.models import Customer
from comptoir.routing.assignment import assign_conversation, route_to_person
from comptoir.routing.estimates import (
    DEFAULT_HANDLE_SECONDS,
    estimate_wait,
    forget_handle_times,
    mean_handle_seconds,
)
from comptoir.routing.models import AgentProfile, ChannelGroup, QueueEntry, RoutingSettings
from comptoir.routing.router import assign_next
from comptoir.routing.rules import forget_routing_cache
from comptoir.routing.wait_texts import spoken_duration, wait_sentence
from comptoir.tenancy.models import ApiToken
from comptoir.touchpoints.phone.models import PhoneLine, Provider
from tests.factories import make_agent
from tests.sla_helpers import office_calendar, paris
from tests.test_api import bearer
from tests.test_phone import LINE, SECRET, T0, event, post_generic
from tests.test_router import holding, new_conversation, online, team_of, waiting_in
from tests.test_widget import auth, send, start_session

WAIT_URL = "/widget/api/wait"


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
        "offer_callback": False,  # 160 s: under the default 300 s
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


# --- what the widget shows ------------------------------------------------------------------


def test_the_widget_tells_the_visitor_their_place_and_wait_in_seconds(client, brand, agent):
    team = team_of(brand, online(agent))
    holding(agent, 3)
    ahead = waiting_in(team, brand)
    assert ahead
    token = start_session(client, brand, language="en").json()["token"]
    assert send(client, token, "Bonjour").status_code == 201
    conversation = Conversation.objects.order_by("-pk").first()
    route_to_person(None, conversation, team=team)

    # The widget sends the session's language (Accept-Language), as with every request.
    answer = client.post(
        WAIT_URL, {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en", **auth(token)
    )
    assert answer.status_code == 200
    handle = DEFAULT_HANDLE_SECONDS[ChannelGroup.CHAT]
    [waiting] = answer.json()["waiting"]
    assert waiting["conversation_id"] == conversation.pk
    assert (waiting["position"], waiting["waiting"]) == (2, 2)
    assert waiting["estimated_wait_seconds"] == round(2 * handle / 3)
    assert waiting["text"] == "You are number 2 in line. Estimated wait: 5 min 20 s."

    french = client.post(
        WAIT_URL, {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="fr", **auth(token)
    )
    assert french.json()["waiting"][0]["text"] == (
        "Vous êtes numéro 2 dans la file. Attente estimée : 5 min 20 s."
    )

    # Taken by a person: nothing to wait for any more.
    assign_conversation(agent, conversation, agent)
    answer = client.post(WAIT_URL, {}, content_type="application/json", **auth(token))
    assert answer.json() == {"waiting": []}


def test_a_visitor_sees_only_their_own_wait(client, brand, agent):
    team = team_of(brand, agent)
    waiting_in(team, brand)  # someone else's conversation
    token = start_session(client, brand).json()["token"]
    answer = client.post(WAIT_URL, {}, content_type="application/json", **auth(token))
    assert answer.json() == {"waiting": []}
    refused = client.post(WAIT_URL, {}, content_type="application/json")
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("seconds", "english", "french"),
    [
        (1, "1 second", "1 seconde"),
        (45, "45 seconds", "45 secondes"),
        (60, "1 min", "1 min"),
        (200, "3 min 20 s", "3 min 20 s"),
        (3900, "1 h 05 min", "1 h 05 min"),
    ],
)
def test_durations_are_told_to_the_second(seconds, english, french):
    with translation.override("en"):
        assert spoken_duration(seconds) == english
    with translation.override("fr"):
        assert spoken_duration(seconds) == french


def test_nobody_available_is_said_not_estimated(brand, agent):
    team = team_of(brand, agent)
    estimate = estimate_wait(waiting_in(team, brand).pk)
    with translation.override("en"):
        assert wait_sentence(estimate) == (
            "You are next in line. No advisor is available right now: we answer as soon as one is."
        )


# --- what the phone's IVR reads out ----------------------------------------------------------


@pytest.fixture
def phone_line(brand):
    return PhoneLine.objects.create(
        brand=brand, number=LINE, provider=Provider.LOG, webhook_secret=SECRET
    )


@pytest.mark.usefixtures("phone_line")
def test_the_call_webhook_answers_the_callers_place_and_wait(client, brand, agent):
    RoutingSettings.objects.create(brand=brand, route_new_channels="phone")
    forget_routing_cache()
    holding(online(agent), 1, channel=Channel.PHONE)  # one call at once: busy
    answer = post_generic(client, brand, event("queued", T0))
    assert answer.status_code == 200
    handle = DEFAULT_HANDLE_SECONDS[ChannelGroup.CALL]
    assert answer.json()["queue"] == {
        "position": 1,
        "waiting": 1,
        "estimated_wait_seconds": handle,
        "agents_available": 1,
        "offer_callback": False,  # 300 s: not over the default threshold
        "back_at": None,
        "text": "Vous êtes le prochain dans la file. Attente estimée : 5 min.",
    }
    agent.user.email = "camille@example.org"
    agent.user.save()
    answered = event("answered", T0 + timedelta(seconds=42), agent="camille@example.org")
    assert post_generic(client, brand, answered).json()["queue"] is None


@pytest.mark.usefixtures("phone_line")
def test_a_brand_that_does_not_route_calls_gives_no_queue(client, brand):
    assert post_generic(client, brand, event("queued", T0)).json()["queue"] is None


# --- the API -----------------------------------------------------------------------------------


def test_the_api_gives_a_conversations_place_and_wait(client, brand, agent, outsider):
    team = team_of(brand, online(agent))
    holding(agent, 3)
    waiting = waiting_in(team, brand)
    url = f"/api/conversations/{waiting.pk}/wait"
    key = ApiToken.issue(agent, "tests")[1]
    answer = client.get(url, headers=bearer(key))
    assert answer.status_code == 200
    assert answer.json() == {
        "waiting": True,
        "position": 1,
        "in_line": 1,
        "estimated_wait_seconds": round(DEFAULT_HANDLE_SECONDS[ChannelGroup.CHAT] / 3),
        "agents_available": 1,
    }
    taken = Conversation.objects.filter(assignee=agent).first()
    answer = client.get(f"/api/conversations/{taken.pk}/wait", headers=bearer(key))
    assert answer.json()["waiting"] is False
    other_key = ApiToken.issue(outsider, "tests")[1]
    assert client.get(url, headers=bearer(other_key)).status_code == 404


def test_a_long_wait_or_nobody_available_offers_a_callback(brand, agent, colleague):
    team = team_of(brand, online(agent))
    holding(agent, 3)
    line = [waiting_in(team, brand) for _ in range(3)]  # 160 s, 320 s, 480 s (3 chats at once)
    assert [estimate_wait(c.pk).offer_callback for c in line] == [False, True, True]
    RoutingSettings.objects.create(brand=brand, offer_callback_after_seconds=0)  # never
    assert not estimate_wait(line[-1].pk).offer_callback
    RoutingSettings.objects.filter(brand=brand).update(offer_callback_after_seconds=60)
    nobody = waiting_in(team_of(brand, colleague, name="Boutique"), brand)  # console closed
    assert estimate_wait(nobody.pk).offer_callback


def test_a_closed_team_says_when_it_is_back_instead_of_a_wait(client, brand, agent):
    office_calendar(brand)  # Monday to Friday, 9:00 to 18:00 in Paris
    with time_machine.travel(paris(2031, 6, 7, 11), tick=False):  # a Saturday
        team = team_of(brand, online(agent))
        holding(agent, 3)
        token = start_session(client, brand).json()["token"]
        send(client, token, "Bonjour")
        conversation = Conversation.objects.order_by("-pk").first()
        route_to_person(None, conversation, team=team)
        answer = client.post(
            WAIT_URL, {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="fr", **auth(token)
        )
    [waiting] = answer.json()["waiting"]
    assert waiting["estimated_wait_seconds"] is None
    assert waiting["offer_callback"] is True
    assert waiting["back_at"] == "2031-06-09T09:00:00+02:00"
    assert waiting["text"] == (
        "Nous sommes fermés pour le moment : nous revenons le 9 juin 2031 à 09:00."
    )
