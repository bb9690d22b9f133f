"""Routing's own rules, and who did what: every change to a conversation names its actor."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from comptoir.assistant.models import Intent
from comptoir.conversations.actions import (
    add_note,
    raise_priority,
    reopen_conversation,
    resolve_conversation,
    send_automatic_message,
    send_reply,
)
from comptoir.conversations.models import AuthorKind, Channel, Priority
from comptoir.events.models import Event
from comptoir.routing.assignment import (
    agent_named,
    assign_conversation,
    give_to_answering_agent,
    handoff_team,
    route_to_person,
)
from comptoir.routing.presence import record_console_seen
from comptoir.tenancy.models import Membership, Team
from comptoir.touchpoints.phone.calls import record_call_event
from comptoir.touchpoints.phone.events import CallEvent, CallEventKind
from tests.factories import ingest_chat


def last_update() -> Event:
    return Event.objects.filter(kind="conversation.updated").latest("id")


def last_message_event() -> Event:
    return Event.objects.filter(kind="message.created").latest("id")


def test_agents_changes_name_the_agent_in_their_events(brand, agent, colleague):
    conversation = ingest_chat(brand).conversation

    assign_conversation(agent, conversation, colleague)
    assert last_update().actor_id == agent.pk
    resolve_conversation(colleague, conversation)
    assert last_update().actor_id == colleague.pk
    reopen_conversation(agent, conversation)
    assert last_update().actor_id == agent.pk

    send_reply(colleague, conversation, "Bonjour")
    reply = last_message_event()
    assert reply.actor_id == colleague.pk
    assert "actor_id" not in reply.customer_payload, "the customer is not told who did what"
    add_note(agent, conversation, "à rappeler")
    assert last_message_event().actor_id == agent.pk


def test_what_comptoir_does_by_itself_names_no_actor(brand, agent):
    conversation = ingest_chat(brand).conversation

    route_to_person(None, conversation)  # the brand's queue: nothing changes, nothing said
    assert not Event.objects.filter(kind="conversation.updated").exists()
    raise_priority(None, conversation, Priority.HIGH)
    assert last_update().actor_id is None
    send_automatic_message(
        conversation, "Nous avons bien reçu votre message.", channel=Channel.WEBCHAT
    )
    assert last_message_event().actor_id is None
    add_note(None, conversation, "Résumé", author_kind=AuthorKind.BOT)
    assert last_message_event().actor_id is None
    resolve_conversation(None, conversation)
    assert last_update().actor_id is None


def test_a_handoff_routed_to_the_advisor_is_done_by_nobody(brand, agent):
    conversation = ingest_chat(brand).conversation
    customer = conversation.customer
    customer.advisor = agent
    customer.save(update_fields=["advisor"])
    Membership.objects.filter(pk=agent.pk).update(last_seen_at=timezone.now())

    route_to_person(None, conversation)

    event = last_update()
    assert (event.payload["assignee_id"], event.actor_id) == (agent.pk, None)


def test_the_agent_who_answers_a_call_takes_the_conversation_as_its_actor(brand, agent):
    agent.user.email = "camille@example.org"
    agent.user.save()
    at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def report(kind: str, **extra) -> None:
        record_call_event(
            brand,
            CallEvent(
                provider="log",
                call_id="call-7",
                kind=kind,
                occurred_at=at,
                event_id=kind,
                direction="in",
                from_number="+33612345678",
                to_number="+33180000001",
                **extra,
            ),
        )

    report(CallEventKind.QUEUED)
    report(CallEventKind.ANSWERED, agent="Camille@Example.org")

    event = last_update()
    assert (event.payload["assignee_id"], event.actor_id) == (agent.pk, agent.pk)


def test_a_call_answered_in_a_resolved_or_taken_conversation_is_not_reassigned(
    brand, agent, colleague
):
    conversation = ingest_chat(brand).conversation
    assign_conversation(agent, conversation, agent)
    give_to_answering_agent(conversation, colleague)
    conversation.refresh_from_db()
    assert conversation.assignee == agent

    resolve_conversation(agent, conversation)
    conversation.refresh_from_db()
    assign_conversation(agent, conversation, None)
    conversation.refresh_from_db()
    give_to_answering_agent(conversation, colleague)
    conversation.refresh_from_db()
    assert conversation.assignee is None


def test_a_provider_names_an_active_agent_of_the_brand_by_email_or_username(brand, agent, outsider):
    agent.user.email = "camille@example.org"
    agent.user.save()
    assert agent_named(brand, "CAMILLE@example.org") == agent
    assert agent_named(brand, agent.user.username) == agent
    assert agent_named(brand, outsider.user.username) is None, "another brand's agent"
    assert agent_named(brand, "") is None
    Membership.objects.filter(pk=agent.pk).update(is_active=False)
    assert agent_named(brand, "camille@example.org") is None


def test_a_handoff_goes_to_the_intent_team_only_when_the_intent_is_sure(brand):
    team = Team.objects.create(brand=brand, name="Boutiques")
    intent = Intent(brand=brand, name="appointment", label="Rendez-vous", team=team)
    assert handoff_team(intent, confident=True) == team
    assert handoff_team(intent, confident=False) is None
    assert handoff_team(None, confident=True) is None
    assert handoff_team(Intent(brand=brand, name="other", label="Autre"), confident=True) is None


@pytest.mark.parametrize("withdrawn", ["seat", "user"])
def test_an_open_console_records_its_agent_as_online_until_access_is_withdrawn(agent, withdrawn):
    assert record_console_seen(agent.pk)
    agent.refresh_from_db()
    seen = agent.last_seen_at
    assert agent.is_online()

    if withdrawn == "seat":
        Membership.objects.filter(pk=agent.pk).update(is_active=False)
    else:
        agent.user.is_active = False
        agent.user.save()
    assert not record_console_seen(agent.pk)
    agent.refresh_from_db()
    assert agent.last_seen_at == seen
