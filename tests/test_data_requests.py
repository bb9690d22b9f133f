"""Data requests (export, erasure) tracked with a due date; retention per brand; records page."""

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from comptoir.conversations.inbound import InboundAttachment
from comptoir.customers.models import Customer
from comptoir.gdpr.actions import (
    DataRequestError,
    due_date,
    fulfil_erasure,
    fulfil_export,
    request_data_export,
    request_erasure,
)
from comptoir.gdpr.models import DataRequest, RequestStatus
from comptoir.gdpr.retention import apply_retention, customers_past_retention
from comptoir.security.models import AuditEntry
from comptoir.tenancy.models import Role
from tests.factories import ingest_chat, make_agent
from tests.test_widget import auth, send, start_session

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


@pytest.fixture
def supervisor(brand):
    return make_agent(brand, Role.SUPERVISOR, first_name="Sam")


@pytest.fixture
def customer(brand):
    message = ingest_chat(
        brand,
        "Ma facture n° 4521",
        attachments=[InboundAttachment("../../facture.png", "image/png", PNG)],
    )
    return message.conversation.customer


def test_due_one_calendar_month_later():
    assert due_date(datetime(2031, 1, 31, 10, tzinfo=UTC)) == datetime(2031, 2, 28, 10, tzinfo=UTC)
    assert due_date(datetime(2031, 3, 15, tzinfo=UTC)) == datetime(2031, 4, 15, tzinfo=UTC)


def test_a_customer_asks_in_the_widget_and_asking_twice_is_one_request(client, brand):
    token = start_session(client, brand).json()["token"]
    assert send(client, token, "Bonjour").status_code == 201
    url = "/widget/api/privacy/requests"
    first = client.post(url, {"kind": "export"}, content_type="application/json", **auth(token))
    assert first.status_code == 201
    again = client.post(url, {"kind": "export"}, content_type="application/json", **auth(token))
    assert again.json()["request_id"] == first.json()["request_id"]
    erasure = client.post(url, {"kind": "erasure"}, content_type="application/json", **auth(token))
    assert erasure.status_code == 201
    bad = client.post(url, {"kind": "everything"}, content_type="application/json", **auth(token))
    assert bad.status_code == 400
    requests = DataRequest.objects.order_by("pk")
    assert [(r.kind, r.source, r.requested_by) for r in requests] == [
        ("export", "widget", None),
        ("erasure", "widget", None),
    ]
    assert requests[0].due_at == due_date(requests[0].requested_at)
    audited = AuditEntry.objects.filter(action="data_request_opened")
    assert audited.count() == 2 and audited.first().username.startswith("customer:")


def test_supervisors_see_open_requests_overdue_highlighted_and_download_the_archive(
    client, brand, customer, supervisor, agent
):
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        late = request_erasure(customer, requested_by=agent, source="console")
    export = request_data_export(customer, source="portal")
    client.force_login(supervisor.user)
    page = client.get("/console/privacy/requests/").content.decode()
    assert f'data-request-id="{late.pk}" class="is-overdue" data-overdue="1"' in page
    assert f'data-request-id="{export.pk}">' in page
    assert "An administrator erases." in page

    response = client.get(f"/console/privacy/requests/{export.pk}/export.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("customer.json"))
    message = data["conversations"][0]["messages"][0]
    assert message["text"] == "Ma facture n° 4521"
    path = message["attachments"][0]["path"]
    assert path.startswith("attachments/") and path.count("/") == 1
    assert archive.read(path) == PNG
    assert AuditEntry.objects.filter(action="customer_exported", user=supervisor.user).exists()

    assert client.post(f"/console/privacy/requests/{export.pk}/fulfil/").status_code == 302
    export.refresh_from_db()
    assert (export.status, export.fulfilled_by) == (RequestStatus.FULFILLED, supervisor)
    with pytest.raises(DataRequestError):
        fulfil_export(supervisor, export)
    # An erasure is the administrators': a supervisor's post is refused.
    assert client.post(f"/console/privacy/requests/{late.pk}/fulfil/").status_code == 403
    late.refresh_from_db()
    assert late.status == RequestStatus.OPEN


def test_an_administrator_fulfils_an_erasure_and_the_request_stays_as_proof(
    client, brand, customer, admin
):
    data_request = request_erasure(customer, source="widget")
    client.force_login(admin.user)
    unconfirmed = client.post(f"/console/privacy/requests/{data_request.pk}/fulfil/")
    assert unconfirmed.status_code == 302
    assert DataRequest.objects.get().status == RequestStatus.OPEN
    client.post(f"/console/privacy/requests/{data_request.pk}/fulfil/", {"confirm": "erase"})
    data_request.refresh_from_db()
    customer.refresh_from_db()
    assert data_request.status == RequestStatus.FULFILLED
    assert customer.erased_at is not None and customer.display_name == ""
    assert not customer.identities.exists()
    assert AuditEntry.objects.filter(action="customer_erased", target_id=str(customer.pk)).exists()


def test_an_agent_records_a_request_from_the_customer_panel(client, customer, agent, other_brand):
    client.force_login(agent.user)
    page = client.get(f"/console/customers/{customer.pk}/").content.decode()
    assert f"/console/customers/{customer.pk}/data-requests/" in page
    response = client.post(f"/console/customers/{customer.pk}/data-requests/", {"kind": "export"})
    assert response.status_code == 302
    assert DataRequest.objects.get().requested_by == agent
    assert client.get("/console/privacy/requests/").status_code == 403


def test_fulfil_erasure_needs_an_administrator(customer, supervisor):
    data_request = request_erasure(customer, source="portal")
    with pytest.raises(PermissionDenied):
        fulfil_erasure(supervisor, data_request)
    assert Customer.objects.get(pk=customer.pk).erased_at is None


# --- Retention ------------------------------------------------------------------------------


def test_retention_erases_idle_customers_and_keeps_the_others(brand, other_brand):
    brand.retention_months = 12
    brand.save()
    with time_machine.travel(timezone.now() - timedelta(days=500)):
        idle = ingest_chat(brand, "Un vieux message").conversation
        still_active = ingest_chat(brand, "Bonjour", visitor_id="b" * 32).conversation.customer
        asked = ingest_chat(brand, "Mes données ?").conversation.customer
        request_data_export(asked, source="widget")
        elsewhere = ingest_chat(other_brand, "Ailleurs").conversation.customer
    ingest_chat(brand, "Me revoilà", visitor_id="b" * 32)
    recent = ingest_chat(brand, "Nouveau").conversation.customer

    assert customers_past_retention(brand) == [idle.customer_id]
    assert apply_retention() == {brand.slug: 1}
    erased = Customer.objects.get(pk=idle.customer_id)
    assert erased.erased_at is not None and erased.display_name == ""
    assert not erased.identities.exists()
    assert idle.messages.get().text == ""
    # Aggregates stay: the conversation and its times are still counted.
    assert erased.conversations.count() == 1
    for kept in (still_active, recent, asked, elsewhere):
        assert Customer.objects.get(pk=kept.pk).erased_at is None
    entry = AuditEntry.objects.get(action="retention_erased")
    assert (entry.username, entry.details["reason"]) == ("comptoir", "retention")
    assert apply_retention() == {}, "an erased customer is not erased again"


def test_retention_zero_keeps_everyone(brand):
    with time_machine.travel(timezone.now() - timedelta(days=4000)):
        ingest_chat(brand, "Très ancien")
    assert customers_past_retention(brand) == []
    assert apply_retention() == {}


def test_a_customer_crosses_the_period_as_time_passes(brand):
    brand.retention_months = 6
    brand.save()
    customer = ingest_chat(brand, "Bonjour").conversation.customer
    with time_machine.travel(timezone.now() + timedelta(days=150)):
        assert apply_retention() == {}
    with time_machine.travel(timezone.now() + timedelta(days=200)):
        assert apply_retention() == {brand.slug: 1}
    assert Customer.objects.get(pk=customer.pk).erased_at is not None


# --- Records of processing ------------------------------------------------------------------


def test_the_records_page_states_the_real_periods_and_sets_the_retention(
    client, brand, admin, supervisor, settings
):
    settings.AUDIT_RETENTION_DAYS = 200
    client.force_login(admin.user)
    page = client.get("/console/privacy/").content.decode()
    assert "200" in page and "Until the customer asks for erasure" in page
    response = client.post("/console/privacy/retention/", {"retention_months": "18"})
    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.retention_months == 18
    page = client.get("/console/privacy/").content.decode()
    assert "18 months after the customer" in page
    refused = client.post("/console/privacy/retention/", {"retention_months": "-3"})
    assert refused.status_code == 302
    brand.refresh_from_db()
    assert brand.retention_months == 18
    client.force_login(supervisor.user)
    assert client.get("/console/privacy/").status_code == 403


def test_the_records_page_in_french(client, brand, admin):
    client.force_login(admin.user)
    page = client.get("/console/privacy/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Registre des traitements" in page
