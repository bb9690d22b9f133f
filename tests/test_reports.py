"""Measures from the event log: FCR across channels and merges, contacts per resolution,
times, CSAT; the facts kept live equal a rebuild from the log; the page, CSV and API."""

import csv
import io
import uuid
from datetime import date, timedelta

import pytest
import time_machine
from django.forms.models import model_to_dict
from django.utils import timezone

from comptoir.conversations.actions import resolve_conversation, send_reply
from comptoir.conversations.inbound import IdentityClaim
from comptoir.customers.merging import merge_customers
from comptoir.customers.models import IdentityKind
from comptoir.reports import facts, rollups
from comptoir.reports.measures import Filters, breakdown, csat_distribution, daily, summary
from comptoir.reports.models import ConversationFacts, DayFigures
from comptoir.surveys.actions import answer
from comptoir.surveys.models import Survey, SurveySettings
from comptoir.tasks import run_pending
from comptoir.tenancy.models import ApiToken, Role, Team
from comptoir.touchpoints.phone.calls import record_call_event
from comptoir.touchpoints.phone.events import CallEventKind
from tests.factories import ingest_chat, make_agent
from tests.test_assistant import call_report
from tests.test_email_outbound import customer_mail

START = timezone.make_aware(timezone.datetime(2031, 3, 3, 10, 0))


def at(days: float):
    return time_machine.travel(START + timedelta(days=days), tick=False)


def email_identity(address: str) -> list[IdentityClaim]:
    return [IdentityClaim(IdentityKind.EMAIL, address, verified=True)]


@pytest.fixture
def supervisor(brand):
    return make_agent(brand, Role.SUPERVISOR, first_name="Sam")


@pytest.fixture
def history(brand, agent, colleague, supervisor, settings):
    """Crafted histories over two weeks, across channels, with a merge: their conversations."""
    settings.PUBLIC_URL = "http://testserver"
    SurveySettings.objects.create(brand=brand, channels=["webchat"], fcr_days=7)
    team = Team.objects.create(brand=brand, name="Livraisons")
    made = {}
    with at(0):
        # Anna: chat resolved, then an e-mail 3 days later (another channel, within 7 days).
        made["anna_chat"] = ingest_chat(
            brand, "Où est mon colis ?", extra_identities=email_identity("anna@client.example")
        ).conversation
        send_reply(agent, made["anna_chat"], "Il arrive demain.")
        resolve_conversation(agent, made["anna_chat"])
        # Bruno: chat resolved; he writes again by e-mail only after 10 days (outside the window).
        made["bruno_chat"] = ingest_chat(
            brand, "Facture ?", extra_identities=email_identity("bruno@client.example")
        ).conversation
        send_reply(colleague, made["bruno_chat"], "Envoyée.")
        resolve_conversation(colleague, made["bruno_chat"])
        # Chloé: chat resolved; a stranger writes 2 days later and is later merged into her.
        made["chloe_chat"] = ingest_chat(brand, "Taille ?").conversation
        send_reply(agent, made["chloe_chat"], "Prenez du M.")
        resolve_conversation(agent, made["chloe_chat"])
        # Denis: a chat, then a call about it in the same conversation: two contacts.
        made["denis_chat"] = ingest_chat(
            brand,
            "Remboursement ?",
            extra_identities=[IdentityClaim(IdentityKind.PHONE, "+33612345678")],
        ).conversation
    with at(0.01):
        record_call_event(brand, call_report(CallEventKind.QUEUED, "q"))
        record_call_event(brand, call_report(CallEventKind.ANSWERED, "a"), agent=colleague)
        record_call_event(brand, call_report(CallEventKind.ENDED, "e", status="completed"))
    with at(0.02):
        made["denis_chat"].team = team
        made["denis_chat"].save(update_fields=["team"])
        resolve_conversation(colleague, made["denis_chat"])
    with at(2):
        made["chloe_other"] = ingest_chat(brand, "Et la couleur ?").conversation
    with at(3):
        made["anna_mail"] = customer_mail(
            brand, "<a1@client.example>", "Toujours rien", address="anna@client.example"
        ).conversation
    with at(10):
        made["bruno_mail"] = customer_mail(
            brand, "<b1@client.example>", "Autre chose", address="bruno@client.example"
        ).conversation
    with at(11):
        merge_customers(supervisor, made["chloe_chat"].customer, made["chloe_other"].customer)
        run_pending()
    facts.catch_up()
    for conversation in made.values():
        conversation.refresh_from_db()
    return made


def filters(brand, **extra) -> Filters:
    return Filters(brand_id=brand.pk, start=date(2031, 3, 1), end=date(2031, 3, 31), **extra)


def test_fcr_sees_repeat_contacts_across_channels_and_merges(brand, history):
    assert history["anna_mail"].customer_id == history["anna_chat"].customer_id
    rows = {
        row["conversation_id"]: row
        for row in ConversationFacts.objects.values("conversation_id", "inbound_contacts")
    }
    assert rows[history["denis_chat"].pk]["inbound_contacts"] == 2
    figures = summary(filters(brand))
    # Resolved: Anna's chat (repeat by mail on day 3), Bruno's chat (repeat after the
    # window: FCR), Chloé's chat (repeat by her merged double on day 2), Denis (two contacts).
    assert figures["resolved"] == 4
    assert figures["fcr"] == 1
    assert figures["fcr_rate"] == 25.0
    assert figures["contacts_per_resolution"] == 1.25
    assert figures["conversations"] == 7
    # A longer window catches Bruno's return too.
    assert summary(filters(brand, fcr_days=14))["fcr"] == 0


def test_first_response_resolution_and_groups(brand, history, agent, colleague):
    figures = summary(filters(brand))
    # Chats answered in the same instant (frozen clock); Denis's call answered 864 s after his chat.
    assert figures["first_response_seconds"] == round(864 / 4)
    per_agent = {row["key"]: row for row in breakdown(filters(brand), "agent")}
    assert per_agent[agent.pk]["resolved"] == 2
    assert per_agent[colleague.pk]["resolved"] == 2  # Bruno's chat, and Denis's call
    per_channel = {row["key"]: row for row in breakdown(filters(brand), "channel")}
    assert per_channel["webchat"]["conversations"] == 5
    assert per_channel["email"]["conversations"] == 2
    denis = ConversationFacts.objects.get(conversation=history["denis_chat"])
    assert denis.resolution_seconds == round(0.02 * 86400)
    assert denis.team_id is not None


def test_csat_ces_and_response_rate_from_answers(brand, history, agent):
    surveys = list(Survey.objects.filter(status="sent").order_by("pk"))
    assert len(surveys) == 4  # the four resolved chats (the call's channel is not surveyed)
    answer(surveys[0], 5, 2)
    answer(surveys[1], 2, 6, "Trop long")
    facts.catch_up()  # the answers reach the days' roll-ups
    figures = summary(filters(brand))
    assert (figures["surveys_sent"], figures["surveys_answered"]) == (4, 2)
    assert figures["response_rate"] == 50.0
    assert figures["csat"] == 50.0
    assert figures["ces"] == 4.0
    per_agent = {row["key"]: row for row in breakdown(filters(brand), "agent")}
    assert per_agent[agent.pk]["surveys_answered"] == 1  # Anna's chat; Bruno's was Julien's


def test_the_live_facts_equal_a_rebuild_from_the_log(brand, history):
    live = {row.conversation_id: model_to_dict(row) for row in ConversationFacts.objects.all()}
    assert len(live) == 7
    ConversationFacts.objects.all().delete()
    assert facts.rebuild(brand.pk) == 7
    rebuilt = {row.conversation_id: model_to_dict(row) for row in ConversationFacts.objects.all()}
    assert rebuilt == live


def test_facts_follow_the_log_at_each_catch_up(brand, history, agent):
    """Stale until the catch-up reads the new events; then equal to a rebuild again."""
    conversation = ingest_chat(brand, "Bonjour").conversation
    facts.catch_up()
    send_reply(agent, conversation, "Bonjour !")
    resolve_conversation(agent, conversation)
    stale = model_to_dict(ConversationFacts.objects.get(conversation=conversation))
    assert stale["first_response_at"] is None and stale["resolved_at"] is None
    assert facts.catch_up() == 2
    live = model_to_dict(ConversationFacts.objects.get(conversation=conversation))
    assert live["first_response_at"] is not None and live["resolved_at"] is not None
    assert live["agent_id"] == agent.pk
    assert facts.catch_up() == 0  # nothing new
    facts.rebuild(brand.pk)
    assert model_to_dict(ConversationFacts.objects.get(conversation=conversation)) == live


# --- the page, its drill-down, CSV and the API ----------------------------------------------


def test_reports_page_for_supervisors_and_agents(
    client, brand, history, supervisor, agent, outsider
):
    client.force_login(supervisor.user)
    page = client.get("/console/reports/", {"from": "2031-03-01", "to": "2031-03-31"})
    assert page.status_code == 200
    content = page.content.decode()
    assert 'data-measure="fcr_rate">25.0 %' in content
    assert 'data-measure="conversations">7<' in content
    drill = client.get(
        "/console/reports/", {"from": "2031-03-01", "to": "2031-03-31", "drill": "fcr"}
    ).content.decode()
    assert f"/console/c/{history['bruno_chat'].pk}/" in drill
    assert f"/console/c/{history['anna_chat'].pk}/" not in drill
    # An agent sees their own figures only, whatever they ask for.
    client.force_login(agent.user)
    mine = client.get(
        "/console/reports/", {"from": "2031-03-01", "to": "2031-03-31", "agent": supervisor.pk}
    ).content.decode()
    assert 'data-measure="resolved">2<' in mine
    # Bad input is a 400; another brand's team a 404.
    client.force_login(supervisor.user)
    assert client.get("/console/reports/", {"from": "demain"}).status_code == 400
    assert (
        client.get("/console/reports/", {"from": "2031-03-05", "to": "2031-03-01"}).status_code
        == 400
    )
    foreign = Team.objects.create(brand=outsider.brand, name="Ailleurs")
    assert client.get("/console/reports/", {"team": foreign.pk}).status_code == 404


def test_csv_exports_one_row_per_conversation_and_per_contact(client, brand, history, supervisor):
    client.force_login(supervisor.user)
    params = {"from": "2031-03-01", "to": "2031-03-31"}
    response = client.get("/console/reports/export.csv", {**params, "rows": "conversations"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 7
    fcr = {int(r["conversation_id"]): r["first_contact_resolution"] for r in rows}
    assert fcr[history["bruno_chat"].pk] == "True"
    assert fcr[history["anna_chat"].pk] == "False"
    response = client.get("/console/reports/export.csv", {**params, "rows": "contacts"})
    contacts = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["channel"] for r in contacts} >= {"webchat", "email", "phone"}
    assert len([r for r in contacts if r["conversation_id"] == str(history["denis_chat"].pk)]) == 2


def test_the_api_gives_the_same_figures(client, brand, history, supervisor, agent, outsider):
    _t, key = ApiToken.issue(supervisor, "reports")
    response = client.get(
        "/api/reports",
        {"from": "2031-03-01", "to": "2031-03-31"},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 200
    data = response.json()
    assert data["summary"] == summary(filters(brand))
    assert data["agent_id"] is None
    _t, agent_key = ApiToken.issue(agent, "mine")
    mine = client.get(
        "/api/reports",
        {"from": "2031-03-01", "to": "2031-03-31"},
        HTTP_AUTHORIZATION=f"Bearer {agent_key}",
    ).json()
    assert mine["agent_id"] == agent.pk and mine["summary"]["resolved"] == 2
    _t, outsider_key = ApiToken.issue(outsider, "x")
    other = client.get(
        "/api/reports",
        {"from": "2031-03-01", "to": "2031-03-31"},
        HTTP_AUTHORIZATION=f"Bearer {outsider_key}",
    ).json()
    assert other["summary"]["conversations"] == 0
    bad = client.get(
        "/api/reports",
        {"from": "2031-03-09", "to": "2031-03-01"},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert bad.status_code == 400


def test_a_merge_after_the_figures_undoes_a_first_contact_resolution(brand, agent, supervisor):
    with at(0):
        first = ingest_chat(brand, "Taille ?").conversation
        resolve_conversation(agent, first)
    with at(2):
        double = ingest_chat(brand, "Et la couleur ?").conversation
        facts.catch_up()
        assert summary(filters(brand))["fcr"] == 1  # two people, as far as anyone knows
        merge_customers(supervisor, first.customer, double.customer)
        facts.catch_up()
        assert summary(filters(brand))["fcr"] == 0  # one person, back within 7 days


# --- next response, wait, handle, SLA, backlog, the assistant; the roll-ups -----------------


def _assistant_said(conversation, kind) -> None:
    """What the assistant's pipeline appends when it answers or hands off (``assistant.*``)."""
    from django.db import transaction

    from comptoir.events.actors import SYSTEM
    from comptoir.events.log import append_event

    message = conversation.messages.order_by("pk").first()
    with transaction.atomic():
        append_event(
            conversation.brand_id,
            kind,
            {
                "conversation_id": conversation.pk,
                "message_id": message.pk,
                "reason": "test",
                "intent": "delivery",
                "confidence": 0.9,
            },
            actor=SYSTEM,
            conversation=conversation,
        )


@pytest.fixture
def timed(brand, agent, settings):
    """Two conversations on Monday 2031-06-09 (Paris office hours) under an SLA policy:
    one answered at once then again after two minutes, one breached and handled late;
    a third left open, the assistant's."""
    from comptoir.events import kinds
    from comptoir.routing.assignment import assign_conversation
    from tests.sla_helpers import office_policy, paris, run_timers

    settings.PUBLIC_URL = "http://testserver"
    SurveySettings.objects.create(brand=brand, channels=["webchat"], fcr_days=7)
    office_policy(brand)
    visitor = uuid.uuid4().hex
    made = {}
    with time_machine.travel(paris(2031, 6, 9, 9, 0), tick=False):
        made["quick"] = ingest_chat(brand, "Bonjour", visitor_id=visitor).conversation
        made["slow"] = ingest_chat(brand, "Allô ?").conversation
        run_pending()
    with time_machine.travel(paris(2031, 6, 9, 9, 1), tick=False):
        assign_conversation(agent, made["quick"], agent)
        send_reply(agent, made["quick"], "Bonjour !")
    with time_machine.travel(paris(2031, 6, 9, 9, 3), tick=False):
        ingest_chat(brand, "Et ma commande ?", visitor_id=visitor)
    with time_machine.travel(paris(2031, 6, 9, 9, 5), tick=False):
        send_reply(agent, made["quick"], "Elle part demain.")
        resolve_conversation(agent, made["quick"])
        run_pending()
    with time_machine.travel(paris(2031, 6, 9, 12, 0), tick=False):
        run_timers()  # 2 h of business time: the first response is breached
        assign_conversation(agent, made["slow"], agent)
        send_reply(agent, made["slow"], "Désolé pour l'attente.")
    with time_machine.travel(paris(2031, 6, 9, 14, 0), tick=False):
        resolve_conversation(agent, made["slow"])
        run_pending()
        made["bot"] = ingest_chat(brand, "Horaires ?").conversation
        _assistant_said(made["bot"], kinds.ASSISTANT_ANSWERED)
        made["handed"] = ingest_chat(brand, "Un humain ?").conversation
        _assistant_said(made["handed"], kinds.ASSISTANT_HANDOFF)
        run_pending()
    facts.catch_up()
    return made


def june(brand, **extra) -> Filters:
    return Filters(brand_id=brand.pk, start=date(2031, 6, 1), end=date(2031, 6, 30), **extra)


def test_next_response_wait_handle_sla_backlog_and_assistant(brand, timed):
    from tests.sla_helpers import paris

    quick = ConversationFacts.objects.get(conversation=timed["quick"])
    assert (quick.next_responses, quick.next_response_seconds_total) == (1, 120)
    assert (quick.wait_seconds, quick.handle_seconds) == (60, 240)
    assert quick.has_sla and not quick.sla_breached
    slow = ConversationFacts.objects.get(conversation=timed["slow"])
    assert slow.has_sla and slow.sla_breached
    assert (slow.wait_seconds, slow.handle_seconds) == (3 * 3600, 2 * 3600)
    with time_machine.travel(paris(2031, 6, 9, 18), tick=False):
        figures = summary(june(brand))
        days = {day["day"]: day for day in daily(june(brand))}
    assert figures["next_response_seconds"] == 120
    assert figures["wait_seconds"] == round((60 + 3 * 3600) / 2)
    assert figures["handle_seconds"] == round((240 + 2 * 3600) / 2)
    assert figures["sla_rate"] == 50.0
    # The assistant's two conversations: one it answered alone, one handed to a person.
    assert figures["assistant_conversations"] == 2
    assert (figures["containment_rate"], figures["handoff_rate"]) == (50.0, 50.0)
    # Still open at 18:00 Paris (16:00 UTC, the clock): the assistant's two, opened at 14:00.
    assert figures["backlog"] == 2
    assert figures["backlog_age_seconds"] == 4 * 3600
    assert days[date(2031, 6, 8)]["backlog"] == 0
    assert days[date(2031, 6, 9)]["backlog"] == 2
    assert days[date(2031, 6, 9)]["conversations"] == 4


def _report(brand, facts_only=False, **extra):
    chosen = june(brand, **extra)
    return (
        summary(chosen, facts_only=facts_only),
        daily(chosen, facts_only=facts_only),
        {by: breakdown(chosen, by, facts_only=facts_only) for by in rollups.DIMENSIONS},
        csat_distribution(chosen, facts_only=facts_only),
    )


def test_the_roll_ups_equal_a_rebuild_and_the_facts(brand, timed, agent):
    """The days the catch-up refreshed equal a rebuild; reports from them equal the facts'."""
    survey = Survey.objects.filter(conversation=timed["quick"]).first()
    answer(survey, 4, 3)
    facts.catch_up()

    def stored():
        return sorted(
            (tuple(row.values())[1:] for row in DayFigures.objects.filter(brand=brand).values()),
            key=repr,
        )

    live = stored()
    assert live
    rollups.rebuild(brand.pk)
    assert stored() == live
    for extra in ({}, {"agent_id": agent.pk}, {"channel": "webchat"}, {"intent": "delivery"}):
        assert _report(brand, **extra) == _report(brand, facts_only=True, **extra), extra
    assert _report(brand)[0]["conversations"] == 4
    assert _report(brand)[0]["surveys_answered"] == 1
    # Without the roll-ups a report reads nothing: the figures above came from them.
    DayFigures.objects.all().delete()
    assert summary(june(brand))["conversations"] == 0
    # Two filters and a grouping (or another FCR window): the facts.
    assert breakdown(june(brand, agent_id=agent.pk, channel="webchat"), "intent")[0]["fcr"] == 2


def test_a_reopening_refreshes_the_day_it_had_been_resolved_on(brand, agent):
    """The roll-ups of the former resolution day are recomputed, not only the new one's."""
    from comptoir.conversations.actions import reopen_conversation

    with at(0):
        conversation = ingest_chat(brand, "Bonjour").conversation
        send_reply(agent, conversation, "Bonjour !")
        resolve_conversation(agent, conversation)
    facts.catch_up()
    whole = DayFigures.objects.filter(brand=brand, grouping="")
    assert whole.get(day=date(2031, 3, 3)).closed == 1
    with at(2):
        reopen_conversation(agent, conversation)
    with at(3):
        resolve_conversation(agent, conversation)
    facts.catch_up()
    assert whole.get(day=date(2031, 3, 3)).closed == 0
    assert whole.get(day=date(2031, 3, 6)).closed == 1
    live = sorted((tuple(row.values())[1:] for row in whole.values()), key=repr)
    rollups.rebuild(brand.pk)
    assert sorted((tuple(row.values())[1:] for row in whole.values()), key=repr) == live


def test_a_new_fcr_window_is_recounted_by_the_hourly_task(brand, history):
    from comptoir.reports.tasks import recount_changed_windows

    SurveySettings.objects.filter(brand=brand).update(fcr_days=14)
    # Meanwhile the reports read the facts: Bruno's return after 10 days now counts.
    assert summary(filters(brand, fcr_days=14))["fcr"] == 0
    recount_changed_windows()
    assert set(DayFigures.objects.values_list("fcr_days", flat=True)) == {14}
    ConversationFacts.objects.all().delete()  # from the roll-ups alone now
    assert summary(filters(brand, fcr_days=14))["fcr"] == 0
    assert summary(filters(brand, fcr_days=14))["resolved"] == 4
