"""Consent per purpose (service, surveys, marketing): recorded, withdrawn, and obeyed by surveys."""

import importlib

import pytest
from django.apps import apps as global_apps
from django.db import connection

from comptoir.conversations.actions import resolve_conversation
from comptoir.customers.actions import CustomerActionError, record_consent
from comptoir.customers.consents import allows, customers_refusing, latest_answer
from comptoir.customers.models import Consent, ConsentPurpose
from comptoir.events.models import Event
from comptoir.surveys.models import Survey, SurveySettings, SurveyStatus
from comptoir.tasks import run_pending
from comptoir.touchpoints.email.models import Mailbox
from tests.factories import ingest_chat
from tests.smtp_server import SmtpServer
from tests.task_helpers import make_jobs_due
from tests.test_email_outbound import customer_mail, point_at
from tests.test_surveys import api_headers, chat_with_visitor, mailed_link
from tests.test_widget import start_session


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
    return SurveySettings.objects.create(brand=brand, channels=["webchat", "email"])


@pytest.fixture
def customer(brand):
    return ingest_chat(brand, "Bonjour").conversation.customer


def test_without_an_answer_service_and_surveys_are_allowed_marketing_is_not(customer):
    assert allows(customer, ConsentPurpose.SERVICE)
    assert allows(customer, ConsentPurpose.SURVEYS)
    assert not allows(customer, ConsentPurpose.MARKETING)
    assert not allows(customer, ConsentPurpose.MARKETING_EMAIL)
    assert not allows(None, ConsentPurpose.MARKETING) and allows(None, ConsentPurpose.SURVEYS)
    with pytest.raises(ValueError):
        allows(customer, "telepathy")


def test_the_latest_answer_counts_with_its_source_time_and_event(customer, agent):
    record_consent(customer, ConsentPurpose.MARKETING, True, source="widget")
    assert allows(customer, ConsentPurpose.MARKETING)
    assert allows(customer, ConsentPurpose.MARKETING_SMS), "general marketing covers a channel"
    record_consent(customer, ConsentPurpose.MARKETING_SMS, False, source="console", actor=agent)
    assert not allows(customer, ConsentPurpose.MARKETING_SMS)
    assert allows(customer, ConsentPurpose.MARKETING_EMAIL)
    withdrawn = record_consent(customer, ConsentPurpose.SURVEYS, False, source="survey")
    assert not allows(customer, ConsentPurpose.SURVEYS)
    assert latest_answer(customer, ConsentPurpose.SURVEYS) == withdrawn
    assert withdrawn.recorded_at is not None and withdrawn.recorded_by is None
    assert customers_refusing([customer.pk], ConsentPurpose.SURVEYS) == {customer.pk}
    record_consent(customer, ConsentPurpose.SURVEYS, True, source="widget")
    assert allows(customer, ConsentPurpose.SURVEYS)
    assert customers_refusing([customer.pk], ConsentPurpose.SURVEYS) == set()
    events = Event.objects.filter(kind="customer.consent_recorded").order_by("pk")
    assert [(e.payload["purpose"], e.payload["granted"]) for e in events] == [
        ("marketing", True),
        ("marketing_sms", False),
        ("surveys", False),
        ("surveys", True),
    ]
    assert events[1].actor_id == agent.pk
    with pytest.raises(CustomerActionError):
        record_consent(customer, "data_processing", True)


def test_an_agent_records_and_withdraws_in_the_customer_panel(client, agent, customer, outsider):
    client.force_login(agent.user)
    page = client.get(f"/console/customers/{customer.pk}/").content.decode()
    assert 'data-purpose="surveys" data-allowed="yes"' in page
    url = f"/console/customers/{customer.pk}/consents/"
    response = client.post(url, {"purpose": "surveys", "granted": "0"})
    assert response.status_code == 302
    assert not allows(customer, ConsentPurpose.SURVEYS)
    consent = Consent.objects.get()
    assert (consent.source, consent.recorded_by) == ("console", agent)
    page = client.get(f"/console/customers/{customer.pk}/").content.decode()
    assert 'data-purpose="surveys" data-allowed="no"' in page
    bad = client.post(
        url, {"purpose": "surveys", "granted": "maybe"}, HTTP_X_REQUESTED_WITH="fetch"
    )
    assert bad.status_code == 400
    client.force_login(outsider.user)
    assert client.post(url, {"purpose": "surveys", "granted": "1"}).status_code == 404
    assert not allows(customer, ConsentPurpose.SURVEYS)


def test_no_survey_is_planned_sent_or_reminded_after_a_withdrawal(
    client, brand, agent, surveys, mailbox, smtp
):
    # Withdrawn before the contact ends: nothing is planned.
    conversation = customer_mail(brand, "<c1@client.example>", "Facture").conversation
    record_consent(conversation.customer, ConsentPurpose.SURVEYS, False, source="console")
    resolve_conversation(agent, conversation)
    run_pending()
    run_pending()
    assert not Survey.objects.filter(conversation=conversation).exists()
    assert smtp.received == []
    # By hand: refused with the reason, console and API.
    response = client.post(f"/api/conversations/{conversation.pk}/survey", **api_headers(agent))
    assert response.status_code == 409
    assert "withdrew" in response.json()["detail"]


def test_a_withdrawal_during_the_delay_cancels_the_survey(client, brand, agent, surveys):
    surveys.delay_minutes = 30
    surveys.save()
    token, conversation = chat_with_visitor(client, brand, agent)
    resolve_conversation(agent, conversation)
    run_pending()
    survey = Survey.objects.get()
    assert survey.status == SurveyStatus.SCHEDULED
    record_consent(conversation.customer, ConsentPurpose.SURVEYS, False, source="widget")
    make_jobs_due()
    run_pending()
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CANCELLED
    assert start_session(client, brand, token=token).json()["surveys"] == []


def test_the_survey_page_offers_to_stop_surveys_and_the_reminder_obeys(
    client, brand, agent, surveys, mailbox, smtp
):
    surveys.reminder_hours = 24
    surveys.save()
    conversation = customer_mail(brand, "<c2@client.example>", "Retour").conversation
    resolve_conversation(agent, conversation)
    run_pending()
    run_pending()
    link = mailed_link(smtp)
    page = client.get(link).content.decode()
    assert f'action="{link}stop/"' in page
    assert client.get(f"{link}stop/").status_code == 405, "a GET (a link preview) records nothing"
    stopped = client.post(f"{link}stop/")
    assert stopped.status_code == 200
    assert "any more" in stopped.content.decode() or "plus" in stopped.content.decode()
    consent = latest_answer(conversation.customer, ConsentPurpose.SURVEYS)
    assert (consent.granted, consent.source) == (False, "survey")
    make_jobs_due()
    run_pending()
    make_jobs_due()
    run_pending()
    assert len(smtp.received) == 1, "no reminder"
    forged = link.replace("/s/", "/s/x").rstrip("/") + "/stop/"
    assert client.post(forged).status_code == 400


def test_the_widget_records_and_withdraws_consents(client, brand, agent):
    from tests.test_widget import auth, send

    token = start_session(client, brand).json()["token"]
    url = "/widget/api/privacy/consents"
    # Before writing, the visitor is nobody yet: nothing to record.
    early = client.post(
        url,
        {"purpose": "surveys", "granted": False},
        content_type="application/json",
        **auth(token),
    )
    assert early.status_code == 404
    assert send(client, token, "Bonjour").status_code == 201
    response = client.post(
        url,
        {"purpose": "surveys", "granted": False},
        content_type="application/json",
        **auth(token),
    )
    assert response.status_code == 200
    customer = Consent.objects.get().customer
    assert not allows(customer, ConsentPurpose.SURVEYS)
    listed = client.get(url, **auth(token)).json()["consents"]
    assert {c["purpose"]: c["allowed"] for c in listed}["surveys"] is False
    bad = client.post(
        url, {"purpose": "surveys", "granted": "no"}, content_type="application/json", **auth(token)
    )
    assert bad.status_code == 400
    assert client.post(url, {}, content_type="application/json").status_code == 401


def test_the_migration_renames_data_processing_to_service(customer):
    migration = importlib.import_module("comptoir.customers.migrations.0005_consent_purposes")
    Consent.objects.create(
        brand_id=customer.brand_id,
        customer=customer,
        purpose="data_processing",
        granted=True,
        recorded_at=customer.created_at,
    )
    migration.data_processing_to_service(global_apps, connection.schema_editor())
    assert list(Consent.objects.values_list("purpose", flat=True)) == ["service"]
