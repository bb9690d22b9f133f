"""Teams with ``auto_assign``: a handoff goes at once to the least busy available member.

The load of a member is the number of unresolved (open or pending) conversations of
the brand assigned to them; ties go to the one whose latest conversation is the oldest,
then to the lowest membership id. With nobody available the handoff waits in the team's
queue as for any team; the customer's own available advisor still comes first.
"""

from datetime import timedelta

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from comptoir.assistant.models import ConversationState, Intent
from comptoir.conversations.models import Conversation, Status
from comptoir.customers.actions import set_advisor
from comptoir.events.models import Event
from comptoir.routing.assignment import Routing, assign_conversation, route_to_person
from comptoir.tenancy.models import Availability, Membership, Role, Team
from tests.factories import ingest_chat, make_agent
from tests.task_helpers import drop_queued_jobs
from tests.test_assistant import ANSWER_TASK, bot_messages, setup_assistant, write

VISITOR = "f" * 32
APPOINTMENT = "Bonjour, je voudrais prendre rendez-vous en boutique"


def online(membership: Membership) -> Membership:
    """The agent has the console open (its socket records this on every ping)."""
    membership.last_seen_at = timezone.now()
    membership.save(update_fields=["last_seen_at"])
    return membership


def team_of(brand, *members: Membership, auto_assign: bool = True) -> Team:
    team = Team.objects.create(brand=brand, name="Service client", auto_assign=auto_assign)
    team.members.add(*members)
    return team


def holding(membership: Membership, count: int, status: str = Status.OPEN, brand=None) -> None:
    """Give ``membership`` ``count`` conversations of ``brand`` (its own by default)."""
    for _ in range(count):
        message = ingest_chat(brand or membership.brand, "Bonjour")
        drop_queued_jobs(ANSWER_TASK)  # only the handoffs of the test count
        Conversation.objects.filter(pk=message.conversation_id).update(
            assignee=membership, status=status
        )


def new_conversation(brand) -> Conversation:
    message = ingest_chat(brand, "Bonjour")
    drop_queued_jobs(ANSWER_TASK)
    return Conversation.objects.get(pk=message.conversation_id)


def routed(conversation: Conversation, team: Team | None) -> tuple[Routing, Conversation]:
    routing = route_to_person(None, conversation, team=team)
    return routing, Conversation.objects.select_related("assignee", "team").get(pk=conversation.pk)


# Choosing the member


def test_the_member_holding_the_fewest_open_conversations_gets_it(brand):
    busy, light, idle_away = (make_agent(brand) for _ in range(3))
    for member in (busy, light, idle_away):
        online(member)
    holding(busy, 2)
    holding(light, 1)
    holding(light, 3, status=Status.RESOLVED)  # resolved conversations are no load
    idle_away.availability = Availability.AWAY
    idle_away.save(update_fields=["availability"])
    team = team_of(brand, busy, light, idle_away)

    routing, conversation = routed(new_conversation(brand), team)
    assert routing == Routing.TEAM_MEMBER
    assert (conversation.assignee, conversation.team) == (light, team)


def test_pending_conversations_count_as_load(brand):
    waiting, busy = online(make_agent(brand)), online(make_agent(brand))
    holding(waiting, 2, status=Status.PENDING)  # waiting for the customer: still theirs
    holding(busy, 1)
    routing, conversation = routed(new_conversation(brand), team_of(brand, waiting, busy))
    assert (routing, conversation.assignee) == (Routing.TEAM_MEMBER, busy)


def test_another_brands_conversations_never_count(brand, other_brand):
    shared, local = online(make_agent(brand)), online(make_agent(brand))
    holding(local, 1)
    # The same person works for the rival brand too, where they hold a lot...
    rival_seat = Membership.objects.create(user=shared.user, brand=other_brand)
    holding(rival_seat, 4)
    # ...and even a stray rival conversation on their seat here is not this brand's load.
    holding(shared, 3, brand=other_brand)
    routing, conversation = routed(new_conversation(brand), team_of(brand, local, shared))
    assert (routing, conversation.assignee) == (Routing.TEAM_MEMBER, shared)


def test_a_member_of_another_brand_is_never_chosen(brand, other_brand, outsider):
    member = online(make_agent(brand))
    holding(member, 2)  # busier, within the default chat capacity (3)
    online(outsider)  # added to the team by mistake, and idle
    routing, conversation = routed(new_conversation(brand), team_of(brand, member, outsider))
    assert (routing, conversation.assignee) == (Routing.TEAM_MEMBER, member)


def test_away_offline_and_inactive_members_are_passed_over(brand):
    away, offline, inactive, disabled_user, available = (make_agent(brand) for _ in range(5))
    for member in (away, inactive, disabled_user, available):
        online(member)
    away.availability = Availability.AWAY
    away.save(update_fields=["availability"])
    offline.last_seen_at = timezone.now() - timedelta(minutes=5)  # closed the console
    offline.save(update_fields=["last_seen_at"])
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    disabled_user.user.is_active = False
    disabled_user.user.save(update_fields=["is_active"])
    holding(available, 2)  # the busiest, but the only one who can take it (capacity 3)
    team = team_of(brand, away, offline, inactive, disabled_user, available)
    routing, conversation = routed(new_conversation(brand), team)
    assert (routing, conversation.assignee) == (Routing.TEAM_MEMBER, available)


def test_ties_take_turns_then_go_to_the_lowest_id(brand):
    first, second = online(make_agent(brand)), online(make_agent(brand))
    assert first.pk < second.pk
    team = team_of(brand, second, first)
    chosen = []
    for _ in range(3):
        routing, conversation = routed(new_conversation(brand), team)
        assert routing == Routing.TEAM_MEMBER
        chosen.append(conversation.assignee)
        # Closed at once: both hold nothing open again, a tie every time.
        Conversation.objects.filter(pk=conversation.pk).update(status=Status.RESOLVED)
    # Nobody had anything: the lowest id; then the one whose latest conversation is older.
    assert chosen == [first, second, first]


def test_loads_are_read_in_one_query_whatever_the_team_size(brand):
    def queries_for(team_size: int) -> int:
        members = [online(make_agent(brand)) for _ in range(team_size)]
        for member in members:
            holding(member, 1)
        team = Team.objects.create(brand=brand, name=f"Team {team_size}", auto_assign=True)
        team.members.add(*members)
        conversation = new_conversation(brand)
        with CaptureQueriesContext(connection) as queries:
            assert route_to_person(None, conversation, team=team) == Routing.TEAM_MEMBER
        return len(queries)

    assert queries_for(2) == queries_for(6)


# When nobody is chosen, or someone else comes first


def test_with_nobody_available_it_waits_in_the_teams_queue(brand):
    offline = make_agent(brand)  # console never opened
    away = online(make_agent(brand))
    away.availability = Availability.AWAY
    away.save(update_fields=["availability"])
    team = team_of(brand, offline, away)
    routing, conversation = routed(new_conversation(brand), team)
    assert routing == Routing.TEAM
    assert (conversation.assignee, conversation.team) == (None, team)


def test_a_team_without_auto_assign_keeps_its_queue(brand):
    member = online(make_agent(brand))
    team = team_of(brand, member, auto_assign=False)
    routing, conversation = routed(new_conversation(brand), team)
    assert routing == Routing.TEAM
    assert (conversation.assignee, conversation.team) == (None, team)


def test_a_conversation_already_in_the_teams_queue_is_assigned_too(brand):
    member = online(make_agent(brand))
    team = team_of(brand, member)
    conversation = new_conversation(brand)
    Conversation.objects.filter(pk=conversation.pk).update(team=team)
    routing, conversation = routed(conversation, team)
    assert (routing, conversation.assignee, conversation.team) == (
        Routing.TEAM_MEMBER,
        member,
        team,
    )


def test_the_customers_available_advisor_comes_before_the_team(brand, colleague):
    member = online(make_agent(brand))
    holding(online(colleague), 2)  # busier than the member, not at capacity (3 chats)
    conversation = new_conversation(brand)
    set_advisor(make_agent(brand, Role.ADMIN), conversation.customer, colleague)
    routing, conversation = routed(conversation, team_of(brand, member))
    assert routing == Routing.ADVISOR
    assert conversation.assignee == colleague


def test_a_conversation_already_assigned_stays(brand, agent):
    member = online(make_agent(brand))
    conversation = new_conversation(brand)
    assign_conversation(agent, conversation, agent)
    routing, conversation = routed(conversation, team_of(brand, member))
    assert routing == Routing.ALREADY_ASSIGNED
    assert (conversation.assignee, conversation.team) == (agent, None)


def test_the_chosen_member_is_notified(brand, monkeypatch, django_capture_on_commit_callbacks):
    member = online(make_agent(brand))
    sent = []
    monkeypatch.setattr(
        "comptoir.realtime.publish.publish_event",
        lambda event, notify_agent_id=None: sent.append((event.kind, notify_agent_id)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        route_to_person(None, new_conversation(brand), team=team_of(brand, member))
    assert ("conversation.updated", member.pk) in sent
    assert Event.objects.filter(
        brand=brand, kind="conversation.updated", payload__assignee_id=member.pk
    ).exists()


# Through the assistant


def appointments_to(team: Team) -> None:
    Intent.objects.filter(brand=team.brand, name="appointment").update(team=team)


def test_the_handoff_summary_and_note_name_the_member_not_the_customer_message(brand, client):
    setup_assistant(brand)
    busy = online(make_agent(brand, first_name="Sophie"))
    chosen = online(make_agent(brand, first_name="Julien"))
    holding(busy, 1)
    team = team_of(brand, busy, chosen)
    appointments_to(team)

    message = write(brand, APPOINTMENT, visitor=VISITOR)
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert (conversation.assignee_id, conversation.team_id) == (chosen.pk, team.pk)
    summary = ConversationState.objects.get(conversation_id=conversation.pk).summary
    assert summary["routed_to"] == {
        "kind": "team_member",
        "name": "Service client",
        "agent": chosen.display_name,
    }
    # The customer is told "an advisor", never the team member's name.
    [announcement] = bot_messages(conversation.pk)
    assert "Julien" not in announcement.text and chosen.display_name not in announcement.text
    [note] = bot_messages(conversation.pk, notes=True)
    assert chosen.display_name in note.text and "Service client" in note.text
    # The summary card at the top of the conversation says the same.
    client.force_login(chosen.user)
    page = client.get(reverse("console:conversation", args=[conversation.pk]))
    html = page.content.decode()
    start = html.index('id="assistant-summary"')
    card = html[start : html.index("</section>", start)]
    assert chosen.display_name in card and "Service client" in card


def test_the_summary_says_the_advisor_was_away(brand):
    setup_assistant(brand)
    chosen = online(make_agent(brand))
    team = team_of(brand, chosen)
    appointments_to(team)
    advisor = make_agent(brand)  # console closed
    customer = ingest_chat(brand, "Bonjour", visitor_id=VISITOR)
    assert drop_queued_jobs(ANSWER_TASK) == 1  # only the next message counts
    set_advisor(make_agent(brand, Role.ADMIN), customer.conversation.customer, advisor)

    message = write(brand, APPOINTMENT, visitor=VISITOR)
    summary = ConversationState.objects.get(conversation_id=message.conversation_id).summary
    assert summary["routed_to"] == {
        "kind": "team_member",
        "name": "Service client",
        "agent": chosen.display_name,
        "advisor_away": advisor.display_name,
    }
    assert Conversation.objects.get(pk=message.conversation_id).assignee_id == chosen.pk


# The demo


def test_the_demo_auto_assigns_customer_service_only(db, monkeypatch):
    monkeypatch.delenv("COMPTOIR_DEMO_PASSWORD", raising=False)
    call_command("load_demo")
    teams = dict(Team.objects.filter(brand__slug="maison-demo").values_list("name", "auto_assign"))
    assert teams == {"Service client": True, "Boutiques": False}
    # Turned on again when the demo is loaded over a database from before the setting.
    Team.objects.filter(name="Service client").update(auto_assign=False)
    call_command("load_demo")
    assert Team.objects.get(brand__slug="maison-demo", name="Service client").auto_assign
