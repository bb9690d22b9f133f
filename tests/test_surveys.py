"""Surveys after every contact: per channel, their answers, the quiet period, follow-ups.

Real SMTP server in-process for the e-mail link, the widget's own endpoints with
a real visitor token, the phone's provider reports and the REST API with a token.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from comptoir.conversations.actions import reopen_conversation, resolve_conversation
from comptoir.conversations.models import Contact, Message
from comptoir.events.models import Event
from comptoir.surveys.models import FollowUp, Survey, SurveySettings, SurveyStatus
from comptoir.surveys.tokens import read_token
from comptoir.tasks import run_pending
from comptoir.tenancy.models import ApiToken, Role
from comptoir.touchpoints.email.models import Mailbox
from comptoir.touchpoints.phone.calls import record_call_event
from comptoir.touchpoints.phone.events import CallEventKind
from tests.factories import make_agent
from tests.smtp_server import SmtpServer
from tests.task_helpers import make_jobs_due
from tests.test_assistant import call_report
from tests.test_email_outbound import customer_mail, point_at
from tests.test_widget import auth, send, start_session

LINK = re.compile(r"http://testserver(/s/[^/\s]+/)")


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    point_at(settings, server.port)
    yield server
    server.stop()


@pytest.fixture
def mailbox(brand):
    return Mailbox.objects.create(brand=brand, address="support@maison.example")


@pytest.fixture
def surveys(brand, settings):
    settings.PUBLIC_URL = "http://testserver"
    return SurveySettings.objects.create(
        brand=brand, channels=["webchat", "email", "phone", "whatsapp", "messenger"]
    )


def survey_events(kind: str) -> list[Event]:
    return list(Event.objects.filter(kind=kind).order_by("pk"))


def chat_with_visitor(client, brand, agent):
    """A visitor writes in the widget, the agent answers and resolves: (token, conversation)."""
    from comptoir.conversations.actions import send_reply

    token = start_session(client, brand).json()["token"]
    assert send(client, token, "Ma commande est en retard").status_code == 201
    message = Message.objects.filter(brand=brand).latest("pk")
    send_reply(agent, message.conversation, "Elle part aujourd'hui.")
    return token, message.conversation


# --- web chat: inline ---------------------------------------------------------------------


def test_a_resolved_chat_asks_inline_and_the_widget_answers_once(client, brand, agent, surveys):
    token, conversation = chat_with_visitor(client, brand, agent)
    resolve_conversation(agent, conversation)
    run_pending()
    survey = Survey.objects.get(conversation=conversation)
    assert (survey.status, survey.channel, survey.agent_id) == ("sent", "webchat", agent.pk)
    sent = survey_events("survey.sent")[-1]
    question = sent.customer_payload
    assert question["survey_id"] == survey.pk and question["effort_question"]
    # A widget opened again finds the open question (with a token signed anew: a second
    # later it differs, and both are valid).
    asked_again = start_session(client, brand, token=token).json()["surveys"]
    assert [q["survey_id"] for q in asked_again] == [survey.pk]

    answer = {"token": question["token"], "csat": 5, "ces": 6, "comment": "Parfait"}
    response = client.post(
        "/widget/api/surveys/answer", answer, content_type="application/json", **auth(token)
    )
    assert response.status_code == 200
    survey.refresh_from_db()
    assert (survey.status, survey.csat, survey.ces, survey.comment) == ("answered", 5, 6, "Parfait")
    answered = survey_events("survey.answered")[-1]
    assert (
        answered.payload["agent_id"] == agent.pk
        and answered.payload["contact_id"] == survey.contact_id
    )
    assert answered.conversation_id == conversation.pk
    again = client.post(
        "/widget/api/surveys/answer", answer, content_type="application/json", **auth(token)
    )
    assert again.status_code == 410
    assert FollowUp.objects.count() == 0


def test_another_visitor_cannot_answer_someone_elses_survey(client, brand, agent, surveys):
    _token, conversation = chat_with_visitor(client, brand, agent)
    resolve_conversation(agent, conversation)
    run_pending()
    question = survey_events("survey.sent")[-1].customer_payload
    stranger = start_session(client, brand).json()["token"]
    response = client.post(
        "/widget/api/surveys/answer",
        {"token": question["token"], "csat": 1},
        content_type="application/json",
        **auth(stranger),
    )
    assert response.status_code == 404
    assert Survey.objects.get().status == "sent"


# --- e-mail: a signed link, a page, a POST ------------------------------------------------


def mailed_link(smtp_server) -> str:
    body = smtp_server.received[-1].message.get_body(("plain",)).get_content()
    return LINK.search(body).group(1)


def test_email_link_opens_a_page_and_only_the_post_records(
    client,
    brand,
    agent,
    surveys,
    mailbox,
    smtp,
):
    conversation = customer_mail(brand, "<m1@client.example>", "Facture erronée").conversation
    resolve_conversation(agent, conversation)
    run_pending()  # the survey job, then its mail's delivery
    run_pending()
    link = mailed_link(smtp)
    survey = Survey.objects.get(conversation=conversation)

    page = client.get(link)
    assert page.status_code == 200
    assert b'name="csat"' in page.content
    client.head(link)
    survey.refresh_from_db()
    assert survey.status == "sent"  # GET and HEAD never record

    assert client.post(link, {"csat": "9"}).status_code == 400
    response = client.post(link, {"csat": "2", "ces": "3", "comment": "Trop long"})
    assert response.status_code == 200
    survey.refresh_from_db()
    assert (survey.status, survey.csat, survey.ces) == ("answered", 2, 3)
    # Single use: the same link refuses, with a page that says why.
    reused = client.post(link, {"csat": "5"})
    assert reused.status_code == 410
    assert "already been answered" in reused.content.decode()
    assert client.get(link).status_code == 410
    # The survey message ended its own contact: it is not a contact of the customer.
    assert not Contact.objects.filter(conversation=conversation, ended_at__isnull=True).exists()


def test_tampered_and_expired_links_are_refused(client, brand, agent, surveys, mailbox, smtp):
    conversation = customer_mail(brand, "<m2@client.example>", "Colis abîmé").conversation
    resolve_conversation(agent, conversation)
    run_pending()
    run_pending()
    link = mailed_link(smtp)
    token = link.split("/")[2]
    tampered = link.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    response = client.post(tampered, {"csat": "5"})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    forged = signing.dumps({"s": Survey.objects.get().pk, "n": "guess", "e": 9999999999}, salt="x")
    assert client.post(f"/s/{forged}/", {"csat": "5"}).status_code == 400
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        expired = client.post(link, {"csat": "5"})
    assert expired.status_code == 410
    assert "expired" in expired.content.decode()
    assert Survey.objects.get().status == "sent"


def test_the_reminder_is_sent_once_when_unanswered(brand, agent, surveys, mailbox, smtp):
    surveys.reminder_hours = 24
    surveys.save()
    conversation = customer_mail(brand, "<m3@client.example>", "Retour").conversation
    resolve_conversation(agent, conversation)
    run_pending()
    run_pending()
    assert len(smtp.received) == 1
    first_link = mailed_link(smtp)
    make_jobs_due()
    run_pending()
    make_jobs_due()
    run_pending()
    assert len(smtp.received) == 2
    reminder = smtp.received[-1].message.get_body(("plain",)).get_content()
    assert reminder.startswith("Petit rappel")  # the customer's language: the brand's (fr)
    assert read_token(mailed_link(smtp).split("/")[2]) == read_token(first_link.split("/")[2])
    assert Survey.objects.get().reminded_at is not None
    assert [e.payload["reminder"] for e in survey_events("survey.sent")] == [False, True]


# --- when, and when not ---------------------------------------------------------------------


def test_the_delay_waits_and_a_reopened_conversation_is_not_asked(client, brand, agent, surveys):
    surveys.delay_minutes = 30
    surveys.save()
    _token, conversation = chat_with_visitor(client, brand, agent)
    resolve_conversation(agent, conversation)
    run_pending()
    survey = Survey.objects.get()
    assert survey.status == "scheduled"
    reopen_conversation(agent, conversation)
    make_jobs_due()
    run_pending()
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CANCELLED
    assert survey_events("survey.sent") == []


def test_the_quiet_period_asks_nobody_twice(client, brand, agent, surveys):
    surveys.quiet_days = 7
    surveys.save()
    token, first = chat_with_visitor(client, brand, agent)
    resolve_conversation(agent, first)
    run_pending()
    send(client, token, "Encore une question")
    second = Message.objects.filter(brand=brand).latest("pk").conversation
    assert second.pk != first.pk
    resolve_conversation(agent, second)
    run_pending()
    assert Survey.objects.count() == 1
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        send(client, token, "Une autre, une semaine plus tard")
        third = Message.objects.filter(brand=brand).latest("pk").conversation
        resolve_conversation(agent, third)
        run_pending()
    assert Survey.objects.count() == 2


def test_every_contact_is_asked_by_default(client, brand, agent, surveys):
    token, first = chat_with_visitor(client, brand, agent)
    resolve_conversation(agent, first)
    run_pending()
    send(client, token, "Encore une question")
    second = Message.objects.filter(brand=brand).latest("pk").conversation
    resolve_conversation(agent, second)
    run_pending()
    assert Survey.objects.count() == 2


def test_no_survey_after_an_automatic_close_unless_asked(client, brand, agent, surveys):
    _token, conversation = chat_with_visitor(client, brand, agent)
    resolve_conversation(None, conversation)
    run_pending()
    assert Survey.objects.count() == 0
    surveys.after_auto_close = True
    surveys.save()
    reopen_conversation(agent, conversation)
    resolve_conversation(None, conversation)
    run_pending()
    assert Survey.objects.count() == 1


def test_a_channel_switched_off_or_no_settings_sends_nothing(client, brand, agent, surveys):
    surveys.channels = ["email"]
    surveys.save()
    _token, conversation = chat_with_visitor(client, brand, agent)
    resolve_conversation(agent, conversation)
    run_pending()
    assert Survey.objects.count() == 0


# --- phone: the telephony asks, the API records ---------------------------------------------


def api_headers(membership):
    _token, key = ApiToken.issue(membership, "ivr")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def ended_call(brand, agent):
    record_call_event(brand, call_report(CallEventKind.QUEUED, "q"))
    record_call_event(brand, call_report(CallEventKind.ANSWERED, "a"), agent=agent)
    record_call_event(brand, call_report(CallEventKind.ENDED, "e", status="completed"))
    run_pending()


def test_an_ended_call_is_surveyed_by_the_telephony_through_the_api(
    client, brand, agent, surveys, outsider
):
    ended_call(brand, agent)
    survey = Survey.objects.get()
    assert (survey.channel, survey.source, survey.status, survey.agent_id) == (
        "phone",
        "phone",
        "sent",
        agent.pk,
    )
    url = f"/api/contacts/{survey.contact_id}/survey"
    assert (
        client.post(
            url, {"csat": 4}, content_type="application/json", **api_headers(outsider)
        ).status_code
        == 404
    )
    assert (
        client.post(
            url, {"csat": 6}, content_type="application/json", **api_headers(agent)
        ).status_code
        == 422
    )
    response = client.post(
        url, {"csat": 4, "ces": 2}, content_type="application/json", **api_headers(agent)
    )
    assert response.status_code == 201
    assert response.json()["csat"] == 4
    again = client.post(url, {"csat": 1}, content_type="application/json", **api_headers(agent))
    assert again.status_code == 409
    assert survey_events("survey.answered")[-1].payload["channel"] == "phone"


# --- low scores, follow-ups, sending by hand -----------------------------------------------


def test_a_low_score_opens_a_follow_up_a_supervisor_closes(client, brand, agent, surveys, outsider):
    token, conversation = chat_with_visitor(client, brand, agent)
    resolve_conversation(agent, conversation)
    run_pending()
    question = survey_events("survey.sent")[-1].customer_payload
    client.post(
        "/widget/api/surveys/answer",
        {"token": question["token"], "csat": 4, "comment": "Service nul, jamais plus"},
        content_type="application/json",
        **auth(token),
    )
    follow_up = FollowUp.objects.get()
    assert follow_up.reason == "negative comment"
    assert survey_events("survey.follow_up")[-1].payload["status"] == "open"

    supervisor = make_agent(brand, Role.SUPERVISOR)
    client.force_login(supervisor.user)
    page = client.get("/console/reports/")
    assert "Service nul, jamais plus" in page.content.decode()
    done_url = f"/console/surveys/follow-ups/{follow_up.pk}/done/"
    client.force_login(agent.user)
    assert client.post(done_url).status_code == 403
    client.force_login(outsider.user)
    assert client.post(done_url).status_code in (403, 404)
    client.force_login(supervisor.user)
    assert client.post(done_url).status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.done_by_id == supervisor.pk
    assert survey_events("survey.follow_up")[-1].payload["status"] == "done"


def test_an_agent_or_the_api_sends_one_by_hand(client, brand, agent, outsider):
    from tests.factories import ingest_chat

    conversation = ingest_chat(brand).conversation
    url = f"/api/conversations/{conversation.pk}/survey"
    assert client.post(url, **api_headers(outsider)).status_code == 404
    response = client.post(url, **api_headers(agent))
    assert response.status_code == 201
    assert response.json()["source"] == "api" and response.json()["status"] == "sent"
    assert client.post(url, **api_headers(agent)).status_code == 409
    other = ingest_chat(brand).conversation
    client.force_login(agent.user)
    assert client.post(f"/console/c/{other.pk}/survey/").status_code == 302
    assert Survey.objects.get(conversation=other).source == "agent"
    client.force_login(outsider.user)
    assert client.post(f"/console/c/{other.pk}/survey/").status_code == 404


def test_survey_settings_are_for_administrators(client, brand, agent, admin):
    client.force_login(agent.user)
    assert client.get("/console/surveys/settings/").status_code == 403
    client.force_login(admin.user)
    assert client.get("/console/surveys/settings/").status_code == 200
    response = client.post(
        "/console/surveys/settings/",
        {
            "channels": ["webchat", "email"],
            "delay_minutes": 10,
            "quiet_days": 3,
            "reminder_hours": 0,
            "link_days": 28,
            "fcr_days": 7,
            "question_fr": "Alors ?",
        },
    )
    assert response.status_code == 302
    saved = SurveySettings.objects.get(brand=brand)
    assert (saved.channels, saved.delay_minutes, saved.question_fr) == (
        ["webchat", "email"],
        10,
        "Alors ?",
    )
    bad = client.post(
        "/console/surveys/settings/", {"channels": ["fax"], "link_days": 0, "fcr_days": 7}
    )
    assert bad.status_code == 400


def test_an_expired_chat_survey_is_not_asked_again(client, brand, agent, surveys):
    token, conversation = chat_with_visitor(client, brand, agent)
    resolve_conversation(agent, conversation)
    run_pending()
    assert len(start_session(client, brand, token=token).json()["surveys"]) == 1
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert start_session(client, brand, token=token).json()["surveys"] == []
