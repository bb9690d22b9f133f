"""Agents say they are available or away; the assistant's handoffs pass an away advisor over.

Presence ("console open", ``Membership.is_online``) and availability ("I'm away",
``Membership.availability``) are separate: an agent at lunch keeps the console
open but must not receive handoffs.
"""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comptoir.assistant.models import ConversationState, Intent
from comptoir.conversations.models import Conversation
from comptoir.customers.actions import set_advisor
from comptoir.events.models import Event
from comptoir.routing.assignment import Routing, assign_conversation, route_to_person
from comptoir.routing.presence import set_availability
from comptoir.tenancy.actions import MembershipActionError
from comptoir.tenancy.models import ApiToken, Availability, Membership, Role, Team
from tests.factories import ingest_chat, make_agent
from tests.task_helpers import drop_queued_jobs
from tests.test_assistant import ANSWER_TASK, bot_messages, setup_assistant, write

VISITOR = "e" * 32
APPOINTMENT = "Bonjour, je voudrais prendre rendez-vous en boutique"


def online(membership: Membership) -> Membership:
    """The agent has the console open (its socket records this on every ping)."""
    membership.last_seen_at = timezone.now()
    membership.save(update_fields=["last_seen_at"])
    return membership


def availability_of(membership: Membership) -> str:
    return Membership.objects.get(pk=membership.pk).availability


def availability_events(brand) -> list[Event]:
    return list(Event.objects.filter(brand=brand, kind="agent.availability_changed").order_by("id"))


# The model and the action


def test_an_agent_is_available_by_default_and_routable_only_with_the_console_open(agent):
    assert agent.availability == Availability.AVAILABLE and not agent.is_away
    assert not agent.is_available()  # console closed
    online(agent)
    assert agent.is_online() and agent.is_available()
    assert not agent.is_available(now=timezone.now() + timedelta(minutes=5))


def test_away_is_not_available_though_the_console_is_open(agent):
    online(agent)
    set_availability(agent, Availability.AWAY, actor=agent)
    agent = Membership.objects.select_related("user").get(pk=agent.pk)
    assert agent.is_away and agent.is_online() and not agent.is_available()
    set_availability(agent, Availability.AVAILABLE, actor=agent)
    agent = Membership.objects.select_related("user").get(pk=agent.pk)
    assert agent.is_available()


def test_an_inactive_agent_is_not_available(agent, colleague):
    online(agent)
    online(colleague)
    agent.is_active = False
    colleague.user.is_active = False
    assert not agent.is_available() and not colleague.is_available()


def test_set_availability_saves_and_records_one_event_per_change(brand, agent, colleague):
    returned = set_availability(agent, "away", actor=agent)
    assert returned.availability == "away" == availability_of(agent)
    assert availability_of(colleague) == "available"
    [event] = availability_events(brand)
    assert event.payload == {"membership_id": agent.pk, "availability": "away"}
    assert (event.actor_kind, event.actor_id) == ("agent", agent.pk)
    assert event.conversation_id is None and event.customer_payload is None  # agents only
    set_availability(agent, "away", actor=agent)  # already away: nothing to record
    assert len(availability_events(brand)) == 1
    set_availability(agent, "available", actor=agent)
    assert [e.payload["availability"] for e in availability_events(brand)] == ["away", "available"]


def test_set_availability_refuses_an_unknown_value(agent):
    with pytest.raises(MembershipActionError) as refused:
        set_availability(agent, "on holiday", actor=agent)
    assert refused.value.invalid
    assert availability_of(agent) == "available"


def test_nobody_sets_someone_elses_availability(brand, agent, colleague):
    supervisor = make_agent(brand, Role.SUPERVISOR)
    for actor in (colleague, supervisor):
        with pytest.raises(MembershipActionError) as refused:
            set_availability(agent, "away", actor=actor)
        assert refused.value.forbidden
    assert availability_of(agent) == "available" and availability_events(brand) == []
    set_availability(agent, "away", actor=agent)
    assert availability_of(agent) == "away"


# Routing of the assistant's handoffs


@pytest.fixture
def advised(brand, agent):
    """A conversation of a customer whose advisor is ``agent``, console open."""
    conversation = ingest_chat(brand, "Bonjour", visitor_id=VISITOR).conversation
    set_advisor(make_agent(brand, Role.SUPERVISOR), conversation.customer, online(agent))
    return conversation


def test_an_online_but_away_advisor_is_passed_over_for_the_team(brand, agent, advised):
    shops = Team.objects.create(brand=brand, name="Boutiques")
    set_availability(agent, "away", actor=agent)
    assert route_to_person(None, advised, team=shops) == Routing.TEAM
    conversation = Conversation.objects.get(pk=advised.pk)
    assert (conversation.assignee, conversation.team) == (None, shops)

    # Back from lunch: the next handoff goes to them.
    set_availability(agent, "available", actor=agent)
    assert route_to_person(None, conversation, team=shops) == Routing.ADVISOR
    conversation = Conversation.objects.get(pk=advised.pk)
    assert (conversation.assignee, conversation.team) == (agent, shops)


def test_an_online_but_away_advisor_is_passed_over_for_the_queue(agent, advised):
    set_availability(agent, "away", actor=agent)
    assert route_to_person(None, advised) == Routing.QUEUE
    assert Conversation.objects.get(pk=advised.pk).assignee is None
    set_availability(agent, "available", actor=agent)
    assert route_to_person(None, advised) == Routing.ADVISOR
    assert Conversation.objects.get(pk=advised.pk).assignee == agent


def test_away_does_not_take_back_a_conversation_already_held(agent, advised):
    assign_conversation(agent, advised, agent)
    set_availability(agent, "away", actor=agent)
    assert route_to_person(None, advised) == Routing.ALREADY_ASSIGNED
    assert Conversation.objects.get(pk=advised.pk).assignee == agent


def test_the_handoff_summary_says_the_advisor_is_away(brand, colleague):
    """Through the real assistant: an away advisor, console open, leaves the handoff to the team."""
    setup_assistant(brand)
    shops = Team.objects.create(brand=brand, name="Boutiques")
    Intent.objects.filter(brand=brand, name="appointment").update(team=shops)
    first = ingest_chat(brand, "Bonjour", visitor_id=VISITOR)
    assert drop_queued_jobs(ANSWER_TASK) == 1  # only the next message counts
    set_advisor(make_agent(brand, Role.ADMIN), first.conversation.customer, online(colleague))
    set_availability(colleague, "away", actor=colleague)
    message = write(brand, APPOINTMENT, visitor=VISITOR)
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert (conversation.assignee, conversation.team) == (None, shops)
    summary = ConversationState.objects.get(conversation_id=message.conversation_id).summary
    assert summary["routed_to"] == {
        "kind": "team",
        "name": "Boutiques",
        "advisor_away": colleague.display_name,
    }
    [note] = bot_messages(message.conversation_id, notes=True)
    # The brand writes its notes in French: "(son conseiller, …, est absent)".
    assert f"{colleague.display_name}, est absent" in note.text
    [announcement] = bot_messages(message.conversation_id)
    assert colleague.user.first_name not in announcement.text  # not promised to the customer


# The console toggle


def test_the_console_header_shows_the_status_and_a_csrf_protected_form(agent_client):
    page = agent_client.get(reverse("console:inbox"))
    html = page.content.decode()
    form = html[html.index('id="availability"') :]
    form = form[: form.index("</form>")]
    assert f'action="{reverse("console:availability")}"' in html
    assert 'name="csrfmiddlewaretoken"' in form
    assert 'data-availability="available"' in form
    assert 'name="availability" value="away"' in form


def test_an_agent_sets_themselves_away_and_back_without_javascript(
    agent_client, brand, agent, colleague
):
    url = reverse("console:availability")
    page_url = reverse("console:inbox") + "?view=mine"
    response = agent_client.post(url, {"availability": "away", "next": page_url})
    assert response.status_code == 302 and response["Location"] == page_url
    assert availability_of(agent) == "away"
    assert availability_of(colleague) == "available"
    page = agent_client.get(page_url).content.decode()
    assert 'data-availability="away"' in page
    assert 'name="availability" value="available"' in page

    response = agent_client.post(url, {"availability": "available"})
    assert response.status_code == 302 and response["Location"] == reverse("console:inbox")
    assert availability_of(agent) == "available"


def test_the_console_toggle_changes_only_the_agents_own_status(
    agent_client, agent, colleague, outsider
):
    # Whatever else the form carries, the session's membership is the one changed.
    agent_client.post(
        reverse("console:availability"),
        {"availability": "away", "membership": colleague.pk, "membership_id": outsider.pk},
    )
    assert availability_of(agent) == "away"
    assert (availability_of(colleague), availability_of(outsider)) == ("available", "available")


def test_the_console_toggle_refuses_bad_values_and_foreign_redirects(agent_client, agent):
    url = reverse("console:availability")
    response = agent_client.post(
        url, {"availability": "gone"}, headers={"X-Requested-With": "fetch"}
    )
    assert response.status_code == 400
    response = agent_client.post(url, {"availability": "gone"})
    assert response.status_code == 302
    assert availability_of(agent) == "available"
    response = agent_client.post(url, {"availability": "away", "next": "https://evil.example/"})
    assert response["Location"] == reverse("console:inbox")
    response = agent_client.post(
        url, {"availability": "available"}, headers={"X-Requested-With": "fetch"}
    )
    assert response.status_code == 204 and availability_of(agent) == "available"


def test_the_console_toggle_needs_a_login_a_post_and_a_csrf_token(client, agent):
    url = reverse("console:availability")
    response = client.post(url, {"availability": "away"})
    assert response.status_code == 302 and reverse("console:login") in response["Location"]
    assert availability_of(agent) == "available"

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(agent.user)
    assert csrf_client.post(url, {"availability": "away"}).status_code == 403
    assert availability_of(agent) == "available"
    assert csrf_client.get(url).status_code == 405


def test_the_console_shows_an_away_advisor_and_colleague(brand, client, agent, colleague):
    conversation = ingest_chat(brand, "Bonjour", visitor_id=VISITOR).conversation
    supervisor = make_agent(brand, Role.SUPERVISOR)
    set_advisor(supervisor, conversation.customer, colleague)
    set_availability(colleague, "away", actor=colleague)
    assign_conversation(agent, conversation, colleague)
    name = colleague.display_name

    client.force_login(agent.user)
    page = client.get(reverse("console:conversation", args=[conversation.pk])).content.decode()
    advisor_block = page[page.index('id="customer-advisor"') :]
    advisor_block = advisor_block[: advisor_block.index("</section>")]
    assert name in advisor_block and "chip--away" in advisor_block
    assert f'<option value="{colleague.pk}" selected>{name} (away)</option>' in page
    thread_header = page[page.index('class="thread__assignee"') :]
    assert "chip--away" in thread_header[: thread_header.index("</span>\n")]

    client.force_login(supervisor.user)
    page = client.get(reverse("console:customer", args=[conversation.customer_id])).content
    assert f'<option value="{colleague.pk}" selected>{name} (away)</option>'.encode() in page
    assert b"Until the advisor is back, the assistant hands this customer over" in page

    set_availability(colleague, "available", actor=colleague)
    page = client.get(reverse("console:customer", args=[conversation.customer_id])).content
    assert f'<option value="{colleague.pk}" selected>{name}</option>'.encode() in page
    assert b"chip--away" not in page


# The API


def bearer(membership: Membership) -> dict[str, str]:
    return {"Authorization": f"Bearer {ApiToken.issue(membership, 'tests')[1]}"}


def put(client, headers: dict[str, str], availability: str):
    return client.put(
        "/api/me/availability",
        json.dumps({"availability": availability}),
        content_type="application/json",
        headers=headers,
    )


def test_api_reads_and_sets_the_tokens_own_availability(client, brand, agent, colleague):
    headers = bearer(agent)
    response = client.get("/api/me/availability", headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "membership_id": agent.pk,
        "availability": "available",
        "online": False,
        "available": False,
    }
    online(agent)
    response = put(client, headers, "away")
    assert response.status_code == 200
    assert response.json() == {
        "membership_id": agent.pk,
        "availability": "away",
        "online": True,
        "available": False,
    }
    assert availability_of(agent) == "away" and availability_of(colleague) == "available"
    assert client.get("/api/me/availability", headers=headers).json()["availability"] == "away"
    assert len(availability_events(brand)) == 1
    assert put(client, headers, "available").json()["available"] is True


def test_api_refuses_a_bad_value(client, agent):
    assert put(client, bearer(agent), "gone").status_code == 422
    assert availability_of(agent) == "available"


def test_api_another_brands_token_only_reaches_its_own_agent(client, agent, outsider):
    set_availability(agent, "away", actor=agent)
    headers = bearer(outsider)
    response = client.get("/api/me/availability", headers=headers)
    assert response.json()["membership_id"] == outsider.pk
    assert response.json()["availability"] == "available"  # not the agent's "away"
    assert put(client, headers, "away").json()["membership_id"] == outsider.pk
    assert put(client, headers, "available").status_code == 200
    assert availability_of(agent) == "away"  # untouched by the other brand's token


def test_api_needs_a_token(client, agent):
    assert client.get("/api/me/availability").status_code == 401
    response = put(client, {}, "away")
    assert response.status_code == 401
    assert put(client, {"Authorization": "Bearer cpt_unknown"}, "away").status_code == 401
    assert availability_of(agent) == "available"


def test_api_documents_the_endpoint(client):
    document = client.get("/api/openapi.json").json()
    assert set(document["paths"]["/api/me/availability"]) == {"get", "put"}
