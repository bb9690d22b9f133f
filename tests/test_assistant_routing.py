"""Routing of the assistant's handoffs (issue 4): the customer's own advisor first,
then the team of the intent, else the unassigned queue; and jobs handled in order.

Runs the real assistant (trained classifier, worker round) as ``test_assistant`` does.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from comptoir.assistant import jobs
from comptoir.assistant.forms import IntentForm
from comptoir.assistant.models import AssistantJob, ConversationState, Intent, JobStatus, Outcome
from comptoir.conversations.models import Conversation
from comptoir.conversations.state import ConversationStateError
from comptoir.customers.actions import CustomerActionError, set_advisor
from comptoir.customers.models import Customer
from comptoir.events.models import Event
from comptoir.routing.assignment import Routing, assign_conversation, route_to_person
from comptoir.tasks import run_pending
from comptoir.tenancy.models import ApiToken, Role, Team
from tests.factories import ingest_chat, make_agent
from tests.task_helpers import drop_queued_jobs, make_jobs_due, queued_task_names
from tests.test_assistant import ANSWER_TASK, bot_messages, job_of, setup_assistant, write

VISITOR = "c" * 32
APPOINTMENT = "Bonjour, je voudrais prendre rendez-vous en boutique"


def customer_of_visitor(brand, visitor: str = VISITOR) -> Customer:
    """A customer known from an earlier chat (its job dropped: only later messages count)."""
    first = ingest_chat(brand, "Bonjour", visitor_id=visitor)
    drop_queued_jobs(ANSWER_TASK)
    return first.conversation.customer


def online(membership):
    """The agent has the console open (its socket records this on every ping)."""
    membership.last_seen_at = timezone.now()
    membership.save(update_fields=["last_seen_at"])
    return membership


def conversation_of(message) -> Conversation:
    return Conversation.objects.select_related("assignee", "team").get(pk=message.conversation_id)


# The customer's advisor


def test_handoff_goes_to_the_customers_own_advisor(brand, agent):
    setup_assistant(brand)
    supervisor = make_agent(brand, Role.SUPERVISOR)
    set_advisor(supervisor, customer_of_visitor(brand), online(agent))
    message = write(brand, "Je veux parler à un conseiller", visitor=VISITOR)
    assert (job_of(message).outcome, job_of(message).reason) == (Outcome.HANDOFF, "asked_for_human")
    assert conversation_of(message).assignee == agent
    [announcement] = bot_messages(message.conversation_id)
    assert "Camille" in announcement.text  # the advisor, by first name
    summary = ConversationState.objects.get(conversation_id=message.conversation_id).summary
    assert summary["routed_to"] == {"kind": "advisor", "name": agent.display_name}
    [note] = bot_messages(message.conversation_id, notes=True)
    assert agent.display_name in note.text
    # The advisor's console is told the conversation is now theirs.
    assert Event.objects.filter(
        brand=brand, kind="conversation.updated", payload__assignee_id=agent.pk
    ).exists()


def test_an_inactive_advisor_is_passed_over(brand, agent):
    setup_assistant(brand)
    supervisor = make_agent(brand, Role.SUPERVISOR)
    set_advisor(supervisor, customer_of_visitor(brand), online(agent))
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    message = write(brand, "Je veux parler à un conseiller", visitor=VISITOR)
    conversation = conversation_of(message)
    assert conversation.assignee is None and conversation.team is None
    summary = ConversationState.objects.get(conversation_id=message.conversation_id).summary
    assert summary["routed_to"]["kind"] == "queue"


def test_a_conversation_an_agent_holds_stays_with_them(brand, agent, colleague):
    message = ingest_chat(brand, "Bonjour", visitor_id=VISITOR)
    conversation = message.conversation
    supervisor = make_agent(brand, Role.SUPERVISOR)
    set_advisor(supervisor, conversation.customer, colleague)
    assign_conversation(agent, conversation, agent)
    assert route_to_person(None, conversation) == Routing.ALREADY_ASSIGNED
    assert Conversation.objects.get(pk=conversation.pk).assignee == agent


# The intent's team


def test_a_not_automatable_intent_waits_in_its_teams_queue(brand, agent, colleague, client):
    setup_assistant(brand)
    shops = Team.objects.create(brand=brand, name="Boutiques")
    shops.members.add(agent)
    Intent.objects.filter(brand=brand, name="appointment").update(team=shops)
    message = write(brand, APPOINTMENT)
    assert (job_of(message).intent, job_of(message).reason) == ("appointment", "not_automatable")
    conversation = conversation_of(message)
    assert (conversation.team, conversation.assignee) == (shops, None)
    summary = ConversationState.objects.get(conversation_id=message.conversation_id).summary
    assert summary["routed_to"] == {"kind": "team", "name": "Boutiques"}

    # "My teams" lists it for a member of the team, not for anyone else.
    client.force_login(agent.user)
    page = client.get(reverse("console:inbox"), {"view": "teams"})
    assert f'data-conversation-id="{conversation.pk}"'.encode() in page.content
    assert b'data-count="teams">1<' in page.content
    assert b"Boutiques" in page.content
    client.force_login(colleague.user)
    page = client.get(reverse("console:inbox"), {"view": "teams"})
    assert f'data-conversation-id="{conversation.pk}"'.encode() not in page.content
    assert b'data-count="teams">0<' in page.content


def test_the_advisor_comes_before_the_team(brand, agent, colleague):
    setup_assistant(brand)
    shops = Team.objects.create(brand=brand, name="Boutiques")
    Intent.objects.filter(brand=brand, name="appointment").update(team=shops)
    set_advisor(make_agent(brand, Role.ADMIN), customer_of_visitor(brand), online(colleague))
    message = write(brand, APPOINTMENT, visitor=VISITOR)
    conversation = conversation_of(message)
    assert (conversation.assignee, conversation.team) == (colleague, shops)


def test_an_away_advisor_leaves_the_handoff_to_the_team(brand, colleague):
    setup_assistant(brand)
    shops = Team.objects.create(brand=brand, name="Boutiques")
    Intent.objects.filter(brand=brand, name="appointment").update(team=shops)
    set_advisor(make_agent(brand, Role.ADMIN), customer_of_visitor(brand), colleague)
    colleague.last_seen_at = timezone.now() - timedelta(minutes=5)  # closed the console
    colleague.save(update_fields=["last_seen_at"])
    message = write(brand, APPOINTMENT, visitor=VISITOR)
    conversation = conversation_of(message)
    assert (conversation.assignee, conversation.team) == (None, shops)
    summary = ConversationState.objects.get(conversation_id=message.conversation_id).summary
    assert summary["routed_to"] == {
        "kind": "team",
        "name": "Boutiques",
        "advisor_away": colleague.display_name,
    }
    [note] = bot_messages(message.conversation_id, notes=True)
    assert f"{colleague.display_name}, is away" in note.text or "absent" in note.text


def test_an_unsure_guess_does_not_pick_a_team(brand):
    setup_assistant(brand, confidence_threshold=1.01)  # every prediction is unsure
    shops = Team.objects.create(brand=brand, name="Boutiques")
    Intent.objects.filter(brand=brand, name="appointment").update(team=shops)
    message = write(brand, APPOINTMENT)
    assert job_of(message).reason == "low_confidence"
    assert conversation_of(message).team is None


def test_a_team_of_another_brand_is_refused(brand, other_brand):
    message = ingest_chat(brand, "Bonjour")
    rival_team = Team.objects.create(brand=other_brand, name="Rivals")
    with pytest.raises(ConversationStateError):
        route_to_person(None, message.conversation, team=rival_team)
    assert Conversation.objects.get(pk=message.conversation_id).team is None


def test_the_intent_form_offers_only_the_brands_teams(brand, other_brand):
    own = Team.objects.create(brand=brand, name="Boutiques")
    rival = Team.objects.create(brand=other_brand, name="Rivals")
    data = {"name": "appointment", "label": "RDV", "training_phrases_fr": "rendez-vous"}
    form = IntentForm({**data, "team": rival.pk}, brand=brand)
    assert not form.is_valid() and "team" in form.errors
    form = IntentForm({**data, "team": own.pk}, brand=brand)
    assert form.is_valid(), form.errors


# Choosing the advisor


def test_only_supervisors_choose_advisors(brand, agent, colleague):
    customer = customer_of_visitor(brand)
    with pytest.raises(CustomerActionError) as refused:
        set_advisor(agent, customer, colleague)
    assert refused.value.forbidden
    set_advisor(make_agent(brand, Role.SUPERVISOR), customer, colleague)
    assert Customer.objects.get(pk=customer.pk).advisor == colleague


def test_an_advisor_must_be_an_active_agent_of_the_brand(brand, outsider, colleague):
    customer = customer_of_visitor(brand)
    supervisor = make_agent(brand, Role.SUPERVISOR)
    with pytest.raises(CustomerActionError):
        set_advisor(supervisor, customer, outsider)
    colleague.is_active = False
    colleague.save(update_fields=["is_active"])
    with pytest.raises(CustomerActionError):
        set_advisor(supervisor, customer, colleague)
    assert Customer.objects.get(pk=customer.pk).advisor is None


def test_console_advisor_form_for_supervisors_only(brand, client, agent, colleague):
    customer = customer_of_visitor(brand)
    url = reverse("console:advisor_set", args=[customer.pk])
    client.force_login(agent.user)
    page = client.get(reverse("console:customer", args=[customer.pk]))
    assert b'id="advisor-select"' not in page.content
    response = client.post(url, {"advisor": colleague.pk}, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 403

    supervisor = make_agent(brand, Role.SUPERVISOR)
    client.force_login(supervisor.user)
    page = client.get(reverse("console:customer", args=[customer.pk]))
    assert b'id="advisor-select"' in page.content
    response = client.post(url, {"advisor": colleague.pk}, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 204
    assert Customer.objects.get(pk=customer.pk).advisor == colleague
    page = client.get(reverse("console:customer", args=[customer.pk]))
    assert f'<option value="{colleague.pk}" selected>'.encode() in page.content
    response = client.post(url, {"advisor": ""}, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 204
    assert Customer.objects.get(pk=customer.pk).advisor is None


def test_console_advisor_of_another_brand_is_not_found(brand, other_brand, client, colleague):
    customer = customer_of_visitor(brand)
    rival_supervisor = make_agent(other_brand, Role.SUPERVISOR)
    client.force_login(rival_supervisor.user)
    url = reverse("console:advisor_set", args=[customer.pk])
    assert client.post(url, {"advisor": ""}).status_code == 404
    # Nor can a supervisor name another brand's agent.
    supervisor = make_agent(brand, Role.SUPERVISOR)
    client.force_login(supervisor.user)
    assert client.post(url, {"advisor": rival_supervisor.pk}).status_code == 404
    assert Customer.objects.get(pk=customer.pk).advisor is None


def test_api_sets_the_advisor(brand, other_brand, client, agent, colleague):
    customer = customer_of_visitor(brand)
    url = f"/api/customers/{customer.pk}/advisor"

    def put(membership, advisor_id):
        key = ApiToken.issue(membership, "tests")[1]
        return client.put(
            url,
            {"advisor_id": advisor_id},
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )

    assert put(agent, colleague.pk).status_code == 403
    assert put(make_agent(other_brand, Role.SUPERVISOR), None).status_code == 404
    supervisor = make_agent(brand, Role.SUPERVISOR)
    assert put(supervisor, make_agent(other_brand).pk).status_code == 400
    response = put(supervisor, colleague.pk)
    assert response.status_code == 200 and response.json()["advisor_id"] == colleague.pk
    assert put(supervisor, None).json()["advisor_id"] is None


# Jobs of one conversation, in order


def test_a_conversations_jobs_are_handled_one_after_the_other(brand, monkeypatch):
    setup_assistant(brand)
    first = ingest_chat(brand, "Quels sont vos horaires d'ouverture ?", visitor_id=VISITOR)
    second = ingest_chat(brand, "Comment retourner un article ?", visitor_id=VISITOR)
    other = ingest_chat(brand, "Comment retourner un article ?", visitor_id="d" * 32)
    assert first.conversation_id == second.conversation_id != other.conversation_id
    handled: list[int] = []
    rounds: list[int] = []
    process_job = jobs.process_job

    def process_while_another_worker_runs(job_id: int):
        if not rounds:
            # While the first message is being handled, another worker's round takes
            # the other conversation's job, never the second message of this one.
            rounds.append(-1)
            rounds[0] = run_pending()
        handled.append(AssistantJob.objects.get(pk=job_id).message_id)
        return process_job(job_id)

    monkeypatch.setattr(jobs, "process_job", process_while_another_worker_runs)
    assert run_pending() == 2  # the first message, then the second
    assert rounds == [1]
    assert handled == [other.pk, first.pk, second.pk]
    [answer_1, answer_2] = bot_messages(first.conversation_id)
    assert answer_1.pk < answer_2.pk and job_of(second).status == JobStatus.DONE
    assert len(bot_messages(other.conversation_id)) == 1


def test_a_job_waiting_for_its_retry_holds_back_the_next_one(brand, monkeypatch):
    setup_assistant(brand)
    first = ingest_chat(brand, "Quels sont vos horaires d'ouverture ?", visitor_id=VISITOR)
    second = ingest_chat(brand, "Comment retourner un article ?", visitor_id=VISITOR)
    process_job = jobs.process_job

    def fail_first_try(job_id: int):
        job = AssistantJob.objects.get(pk=job_id)
        if job.message_id == first.pk and job.attempts == 1:
            raise ConnectionError("the brand system is down")
        return process_job(job_id)

    monkeypatch.setattr(jobs, "process_job", fail_first_try)
    run_pending()
    # The first message waits for its retry; the second waits behind it.
    assert (job_of(first).status, job_of(first).attempts) == (JobStatus.PENDING, 1)
    assert "brand system is down" in job_of(first).last_error
    assert not AssistantJob.objects.filter(message=second).exists()
    assert bot_messages(first.conversation_id) == []
    assert queued_task_names() == [ANSWER_TASK, ANSWER_TASK]
    make_jobs_due()
    assert run_pending() == 2
    assert (job_of(first).status, job_of(first).attempts) == (JobStatus.DONE, 2)
    [answer_1, answer_2] = bot_messages(first.conversation_id)
    assert answer_1.pk < answer_2.pk and job_of(second).status == JobStatus.DONE
