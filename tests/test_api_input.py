"""Bad input to the REST API: numbers out of range, loose booleans, characters PostgreSQL refuses.

Each answer is a 4xx with a reason (422, or 404 for a path id no row can have), never a 500;
run on both databases, since PostgreSQL is the one that used to fail.
"""

import json

import pytest

from comptoir.conversations.models import Message
from comptoir.customers.models import Identity
from comptoir.tenancy.models import ApiToken
from tests.factories import ingest_chat

HUGE = "10000000000000000000"  # > 2**63 - 1
BIGINT_PLUS_ONE = str(2**63)


@pytest.fixture
def key(agent):
    return ApiToken.issue(agent, "tests")[1]


@pytest.fixture
def auth(key):
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def conversation(brand):
    return ingest_chat(brand, "Bonjour", visitor_id="c" * 32).conversation


def post(client, auth, url, body):
    return client.post(url, json.dumps(body), content_type="application/json", headers=auth)


# Ranges


@pytest.mark.parametrize(
    "query",
    [
        f"offset={HUGE}",
        "offset=-1",
        "offset=1000000001",
        f"limit={HUGE}",
        "limit=0",
        f"customer={HUGE}",
        f"customer={BIGINT_PLUS_ONE}",
        "customer=0",
        f"assignee={HUGE}",
    ],
)
def test_numbers_out_of_range_in_lists_are_refused_with_a_reason(client, auth, query):
    response = client.get(f"/api/conversations?{query}", headers=auth)
    assert response.status_code == 422, response.content
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/customers?offset=10000000000000000000",
        "/api/duplicates?customer=10000000000000000000",
        "/api/merges?customer=10000000000000000000",
        "/api/callbacks?offset=10000000000000000000",
    ],
)
def test_every_list_validates_its_numbers(client, auth, url):
    assert client.get(url, headers=auth).status_code == 422


def test_the_largest_offset_allowed_answers_an_empty_page(client, auth, conversation):
    response = client.get("/api/conversations?offset=1000000000", headers=auth)
    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 1}


@pytest.mark.parametrize(
    "url",
    [
        f"/api/conversations/{HUGE}",
        f"/api/conversations/{BIGINT_PLUS_ONE}/messages",
        "/api/conversations/0",
        f"/api/customers/{HUGE}",
        f"/api/customers/{HUGE}/identities",
        f"/api/callbacks/{HUGE}",
    ],
)
def test_an_id_in_the_path_that_no_row_can_have_is_not_found(client, auth, url):
    response = client.get(url, headers=auth)
    assert response.status_code == 404, response.content
    assert "out of range" in response.json()["detail"]


def test_the_largest_bigint_in_a_path_is_simply_not_found(client, auth):
    response = client.get(f"/api/conversations/{2**63 - 1}", headers=auth)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/conversations/{id}/assign", {"assignee_id": int(HUGE)}),
        ("/api/conversations/{id}/assign", {"assignee_id": -1}),
        ("/api/callbacks", {"number": "+33612345678", "customer_id": int(HUGE)}),
    ],
)
def test_ids_out_of_range_in_bodies_are_refused(client, auth, conversation, url, body):
    response = post(client, auth, url.format(id=conversation.pk), body)
    assert response.status_code == 422, response.content


def test_huge_ids_in_paths_of_writes_are_not_found(client, auth):
    response = post(client, auth, f"/api/conversations/{HUGE}/resolve", {})
    assert response.status_code == 404
    response = post(client, auth, f"/api/customers/{HUGE}/merge", {"absorbed_id": 1})
    assert response.status_code == 404


# Strict booleans


@pytest.mark.parametrize("loose", [0, 1, "true", "false", "1", None])
def test_internal_note_must_be_a_json_boolean(client, auth, conversation, loose):
    url = f"/api/conversations/{conversation.pk}/messages"
    response = post(client, auth, url, {"text": "Pour l'équipe", "internal_note": loose})
    assert response.status_code == 422, response.content
    assert "internal_note" in json.dumps(response.json()["detail"])
    assert not Message.objects.filter(text="Pour l'équipe").exists()


@pytest.mark.parametrize("flag", [True, False])
def test_internal_note_true_and_false_work(client, auth, conversation, flag):
    url = f"/api/conversations/{conversation.pk}/messages"
    response = post(client, auth, url, {"text": "Bonjour", "internal_note": flag})
    assert response.status_code == 201, response.content
    assert response.json()["is_internal_note"] is flag


def test_identity_verified_must_be_a_json_boolean(client, auth, conversation):
    url = f"/api/customers/{conversation.customer_id}/identities"
    body = {"kind": "email", "value": "lea@example.com", "verified": 1}
    assert post(client, auth, url, body).status_code == 422
    body["verified"] = True
    assert post(client, auth, url, body).status_code == 201
    assert Identity.objects.get(value="lea@example.com").verified is True


def test_assistant_booleans_are_strict(client, admin):
    key = ApiToken.issue(admin, "tests")[1]
    auth = {"Authorization": f"Bearer {key}"}
    body = {"language": "fr", "title": "Horaires", "body": "9h-18h", "published": 0}
    assert post(client, auth, "/api/assistant/articles", body).status_code == 422
    body["published"] = False
    assert post(client, auth, "/api/assistant/articles", body).status_code == 201


# Characters PostgreSQL refuses


def test_a_nul_in_a_reply_or_a_note_is_dropped(client, auth, conversation):
    url = f"/api/conversations/{conversation.pk}/messages"
    response = post(client, auth, url, {"text": "a\x00b", "internal_note": True})
    assert response.status_code == 201, response.content
    assert response.json()["text"] == "ab"
    response = post(client, auth, url, {"text": "c\x00d"})
    assert response.status_code == 201
    assert list(Message.objects.filter(text__in=["ab", "cd"]).values_list("text", flat=True))


def test_a_lone_surrogate_becomes_the_replacement_character(client, auth, conversation):
    url = f"/api/conversations/{conversation.pk}/messages"
    raw = '{"text": "caf\\ud800e", "internal_note": true}'
    response = client.post(url, raw, content_type="application/json", headers=auth)
    assert response.status_code == 201, response.content
    assert Message.objects.get(pk=response.json()["id"]).text == "caf\ufffde"


def test_a_nul_in_a_search_or_a_callback_note_is_dropped(client, auth, conversation):
    response = client.get("/api/customers", {"q": "a\x00b"}, headers=auth)
    assert response.status_code == 200
    body = {"number": "+33612345678", "note": "rappel\x00 svp"}
    response = post(client, auth, "/api/callbacks", body)
    assert response.status_code == 201, response.content
    assert response.json()["note"] == "rappel svp"


# Page URLs (console, widget): ids beyond a bigint are unknown pages, not database errors


@pytest.mark.parametrize(
    "url",
    [
        f"/console/c/{HUGE}/",
        f"/console/customers/{HUGE}/",
        f"/console/attachments/{HUGE}/",
        f"/widget/api/attachments/{HUGE}/",
    ],
)
def test_huge_ids_in_page_urls_are_404(agent_client, url):
    assert agent_client.get(url).status_code == 404


def test_the_largest_bigint_in_a_page_url_is_looked_up(agent_client):
    assert agent_client.get(f"/console/c/{2**63 - 1}/").status_code == 404
