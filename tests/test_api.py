"""The integrator REST API: token auth, brand scoping, lists, actions and the OpenAPI docs."""

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comptoir.conversations.actions import add_note, resolve_conversation
from comptoir.conversations.inbound import IdentityClaim, InboundAttachment
from comptoir.conversations.models import Conversation, Message, Status
from comptoir.customers.actions import rename_customer
from comptoir.customers.models import IdentityKind
from comptoir.events.models import Event
from comptoir.routing.assignment import assign_conversation
from comptoir.tenancy.models import ApiToken, Team
from tests.factories import ingest_chat, make_agent

VISITOR_A = "a" * 32
VISITOR_B = "b" * 32


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def key(agent):
    return ApiToken.issue(agent, "tests")[1]


@pytest.fixture
def api(client, key):
    """A test client whose every request carries the agent's API key."""

    class TokenClient:
        def get(self, url, **params):
            return client.get(url, params, headers=bearer(key))

        def post(self, url, body=None):
            return client.post(
                url, json.dumps(body or {}), content_type="application/json", headers=bearer(key)
            )

    return TokenClient()


@pytest.fixture
def conversation(brand):
    return ingest_chat(brand, "Bonjour, ma commande ?", visitor_id=VISITOR_A).conversation


@pytest.fixture
def foreign_conversation(other_brand):
    """A conversation of another brand: the agent's token must never reach it."""
    return ingest_chat(other_brand, "Secret d'un concurrent", visitor_id=VISITOR_B).conversation


# Authentication


def test_no_token_is_refused_with_a_reason(client, conversation):
    response = client.get("/api/conversations")
    assert response.status_code == 401
    assert "Authorization" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer cpt_not-a-real-key", "Token cpt_whatever", "Bearer ", "cpt_whatever"]
)
def test_bad_token_is_refused(client, conversation, header):
    response = client.get("/api/conversations", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_console_session_is_not_an_api_credential(agent_client, conversation):
    response = agent_client.get("/api/conversations")
    assert response.status_code == 401


def test_posts_with_a_bearer_key_need_no_csrf_token(conversation, key):
    csrf_checking_client = Client(enforce_csrf_checks=True)
    response = csrf_checking_client.post(
        f"/api/conversations/{conversation.pk}/messages",
        json.dumps({"text": "Bonjour"}),
        content_type="application/json",
        headers=bearer(key),
    )
    assert response.status_code == 201


def test_revoked_token_is_refused(client, agent):
    token, key = ApiToken.issue(agent, "old")
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    response = client.get("/api/customers", headers=bearer(key))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_token_of_an_inactive_membership_is_refused(client, agent, key):
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    response = client.get("/api/customers", headers=bearer(key))
    assert response.status_code == 401
    assert "no longer active" in response.json()["detail"]


def test_last_used_at_is_stamped_at_most_once_a_minute(client, agent):
    token, key = ApiToken.issue(agent, "usage")
    assert client.get("/api/customers", headers=bearer(key)).status_code == 200
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None

    recent = timezone.now() - timedelta(seconds=20)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    client.get("/api/customers", headers=bearer(key))
    token.refresh_from_db()
    assert token.last_used_at == recent, "no write within the minute"

    stale = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    client.get("/api/customers", headers=bearer(key))
    token.refresh_from_db()
    assert token.last_used_at > stale


# Brand scoping


def _every_url(conversation: Conversation) -> list[tuple[str, str, dict | None]]:
    c, k = conversation.pk, conversation.customer_id
    return [
        ("get", f"/api/customers/{k}", None),
        ("get", f"/api/customers/{k}/conversations", None),
        ("get", f"/api/conversations/{c}", None),
        ("get", f"/api/conversations/{c}/messages", None),
        ("post", f"/api/conversations/{c}/messages", {"text": "hello"}),
        ("post", f"/api/conversations/{c}/messages", {"text": "note", "internal_note": True}),
        ("post", f"/api/conversations/{c}/assign", {"assignee_id": None}),
        ("post", f"/api/conversations/{c}/resolve", None),
        ("post", f"/api/conversations/{c}/reopen", None),
        ("post", f"/api/conversations/{c}/pending", None),
        ("get", f"/api/conversations/{c}/sla", None),
    ]


def test_every_endpoint_answers_404_for_another_brands_objects(api, foreign_conversation):
    events_before = Event.objects.count()
    for method, url, body in _every_url(foreign_conversation):
        response = api.get(url) if method == "get" else api.post(url, body)
        assert response.status_code == 404, (method, url, response.content)
        assert "Secret" not in response.content.decode()
    assert Event.objects.count() == events_before
    assert foreign_conversation.messages.count() == 1


def test_every_endpoint_answers_404_for_unknown_ids(api, brand):
    missing = Conversation(pk=999_999, customer_id=999_999)
    for method, url, body in _every_url(missing):
        response = api.get(url) if method == "get" else api.post(url, body)
        assert response.status_code == 404, (method, url)
        assert response.json()["detail"]


def test_the_same_endpoints_answer_for_the_own_brand(api, conversation):
    for method, url, body in _every_url(conversation):
        response = api.get(url) if method == "get" else api.post(url, body)
        assert response.status_code in {200, 201}, (method, url, response.content)


def test_lists_never_show_another_brands_rows(api, conversation, foreign_conversation):
    customers = api.get("/api/customers").json()
    assert [c["id"] for c in customers["items"]] == [conversation.customer_id]
    assert customers["count"] == 1
    conversations = api.get("/api/conversations").json()
    assert [c["id"] for c in conversations["items"]] == [conversation.pk]
    assert api.get("/api/conversations", customer=foreign_conversation.customer_id).json() == {
        "items": [],
        "count": 0,
    }
    assert api.get("/api/customers", q=VISITOR_B).json()["count"] == 0


def test_assigning_to_an_agent_of_another_brand_is_404(api, conversation, outsider):
    response = api.post(
        f"/api/conversations/{conversation.pk}/assign", {"assignee_id": outsider.pk}
    )
    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.assignee_id is None


def test_filtering_on_an_assignee_of_another_brand_finds_nothing(
    api, conversation, foreign_conversation, outsider
):
    assign_conversation(outsider, foreign_conversation, outsider)
    assert api.get("/api/conversations", assignee=str(outsider.pk)).json()["count"] == 0


# Lists, filters and pagination


def test_pagination_gives_a_page_and_the_total_count(api, brand):
    conversations = [ingest_chat(brand, f"n{i}").conversation for i in range(5)]
    newest_first = [c.pk for c in reversed(conversations)]
    page = api.get("/api/conversations", limit=2, offset=0).json()
    assert page["count"] == 5
    assert [c["id"] for c in page["items"]] == newest_first[:2]
    page = api.get("/api/conversations", limit=2, offset=4).json()
    assert [c["id"] for c in page["items"]] == newest_first[4:]
    assert api.get("/api/conversations", limit=0).status_code == 422
    assert api.get("/api/conversations", limit=1000).status_code == 422


def test_conversation_filters(api, brand, agent, colleague):
    mine = ingest_chat(brand, "mine").conversation
    theirs = ingest_chat(brand, "theirs").conversation
    queued = ingest_chat(brand, "queued", visitor_id=VISITOR_A).conversation
    done = ingest_chat(brand, "done").conversation
    assign_conversation(agent, mine, agent)
    assign_conversation(agent, theirs, colleague)
    resolve_conversation(agent, done)

    def ids(**params):
        response = api.get("/api/conversations", **params)
        assert response.status_code == 200, response.content
        return {c["id"] for c in response.json()["items"]}

    assert ids(assignee="me") == {mine.pk}
    assert ids(assignee=str(colleague.pk)) == {theirs.pk}
    assert ids(assignee="none") == {queued.pk, done.pk}
    assert ids(status="resolved") == {done.pk}
    assert ids(status="open") == {mine.pk, theirs.pk, queued.pk}
    assert ids(status="pending") == set()
    assert ids(customer=queued.customer_id) == {queued.pk}
    assert ids(status="open", assignee="none") == {queued.pk}
    assert api.get("/api/conversations", status="closed").status_code == 422
    assert api.get("/api/conversations", assignee="someone").status_code == 422


def test_customer_search_on_name_and_identity(api, brand):
    named = ingest_chat(brand, "hello", visitor_id=VISITOR_A).conversation.customer
    rename_customer(named, "Madame Dupont")
    emailed = ingest_chat(
        brand,
        "hi",
        visitor_id=VISITOR_B,
        extra_identities=[IdentityClaim(IdentityKind.EMAIL, "Jeanne.Martin@Example.org")],
    ).conversation.customer

    def ids(q):
        return [c["id"] for c in api.get("/api/customers", q=q).json()["items"]]

    assert ids("dupont") == [named.pk]
    assert ids("jeanne.martin@example") == [emailed.pk]
    assert ids(VISITOR_A[:10]) == [named.pk]
    assert ids("nobody") == []
    assert ids("") == [emailed.pk, named.pk], "newest first"


def test_customer_detail_lists_identities(api, brand):
    customer = ingest_chat(
        brand,
        "hi",
        visitor_id=VISITOR_A,
        extra_identities=[IdentityClaim(IdentityKind.EMAIL, "jeanne@example.org")],
    ).conversation.customer
    body = api.get(f"/api/customers/{customer.pk}").json()
    assert body["id"] == customer.pk
    assert body["label"] == f"Visitor #{customer.pk}"
    assert {(i["kind"], i["value"]) for i in body["identities"]} == {
        ("chat_visitor", VISITOR_A),
        ("email", "jeanne@example.org"),
    }


def test_customer_conversations(api, brand, agent):
    first = ingest_chat(brand, "one", visitor_id=VISITOR_A).conversation
    resolve_conversation(agent, first)
    second = ingest_chat(brand, "two", visitor_id=VISITOR_A).conversation
    ingest_chat(brand, "someone else")
    body = api.get(f"/api/customers/{first.customer_id}/conversations").json()
    assert [c["id"] for c in body["items"]] == [second.pk, first.pk]
    assert body["items"][1]["status"] == "resolved"


def test_conversation_detail(api, conversation, agent):
    assign_conversation(agent, conversation, agent)
    body = api.get(f"/api/conversations/{conversation.pk}").json()
    assert body["status"] == "open"
    assert body["customer"] == {
        "id": conversation.customer_id,
        "label": conversation.customer.label,
    }
    assert body["assignee"] == {"id": agent.pk, "name": agent.display_name}
    assert body["subject"] == "Bonjour, ma commande ?"


def test_messages_oldest_first_with_notes_and_attachments(api, brand, agent, conversation):
    ingest_chat(
        brand,
        "voici la photo",
        visitor_id=VISITOR_A,
        attachments=[InboundAttachment("colis.png", "image/png", b"\x89PNG fake")],
    )
    add_note(agent, conversation, "client fidèle")
    items = api.get(f"/api/conversations/{conversation.pk}/messages").json()["items"]
    assert [m["text"] for m in items] == [
        "Bonjour, ma commande ?",
        "voici la photo",
        "client fidèle",
    ]
    assert [m["is_internal_note"] for m in items] == [False, False, True]
    assert items[1]["attachments"] == [
        {
            "id": items[1]["attachments"][0]["id"],
            "filename": "colis.png",
            "content_type": "image/png",
            "size": 9,
        }
    ]
    assert items[2]["author"] == {"id": agent.pk, "name": agent.display_name}
    assert items[0]["author"] is None
    assert items[0]["author_kind"] == "customer"


# Actions


def test_posting_a_reply_creates_the_message_and_its_event(api, agent, conversation):
    response = api.post(f"/api/conversations/{conversation.pk}/messages", {"text": "Je regarde."})
    assert response.status_code == 201
    body = response.json()
    message = Message.objects.get(pk=body["id"])
    assert message.text == "Je regarde."
    assert message.author == agent
    assert not message.is_internal_note
    assert body["direction"] == "out"
    assert body["author"]["id"] == agent.pk
    event = Event.objects.filter(conversation=conversation).latest("id")
    assert event.kind == "message.created"
    assert event.payload["id"] == message.pk
    assert event.customer_payload["text"] == "Je regarde."


def test_posting_a_note_flags_it_and_hides_it_from_the_customer(api, conversation):
    response = api.post(
        f"/api/conversations/{conversation.pk}/messages",
        {"text": "VIP, rembourser", "internal_note": True},
    )
    assert response.status_code == 201
    assert response.json()["is_internal_note"] is True
    message = Message.objects.get(pk=response.json()["id"])
    assert message.is_internal_note
    event = Event.objects.filter(conversation=conversation).latest("id")
    assert event.payload["is_internal_note"] is True
    assert event.customer_payload is None


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   \n"}, {}, {"text": "x" * 10_001}])
def test_empty_or_missing_text_is_refused_with_a_reason(api, conversation, body):
    response = api.post(f"/api/conversations/{conversation.pk}/messages", body)
    assert response.status_code == 422
    assert response.json()["detail"]
    assert conversation.messages.count() == 1


def test_state_errors_are_409(api, conversation):
    url = f"/api/conversations/{conversation.pk}"
    reopened = api.post(f"{url}/reopen")
    assert reopened.status_code == 409
    assert "not resolved" in reopened.json()["detail"]
    assert api.post(f"{url}/resolve").json()["status"] == "resolved"
    assert api.post(f"{url}/resolve").status_code == 409
    reply = api.post(f"{url}/messages", {"text": "trop tard"})
    assert reply.status_code == 409
    assert "reopen" in reply.json()["detail"]
    assert api.post(f"{url}/messages", {"text": "note", "internal_note": True}).status_code == 201
    assert api.post(f"{url}/reopen").json()["status"] == "open"
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN


def test_assign_and_unassign(api, conversation, colleague):
    url = f"/api/conversations/{conversation.pk}/assign"
    body = api.post(url, {"assignee_id": colleague.pk}).json()
    assert body["assignee"] == {"id": colleague.pk, "name": colleague.display_name}
    assert Event.objects.filter(kind="conversation.updated").count() == 1
    assert api.post(url, {"assignee_id": None}).json()["assignee"] is None
    conversation.refresh_from_db()
    assert conversation.assignee_id is None
    assert api.post(url, {}).status_code == 422


def test_assigning_to_an_inactive_agent_is_404(api, brand, conversation):
    gone = make_agent(brand)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    assert (
        api.post(
            f"/api/conversations/{conversation.pk}/assign", {"assignee_id": gone.pk}
        ).status_code
        == 404
    )


# Query counts


def _queries(api, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api.get(url).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_rows(api, brand, agent, colleague):
    conversation = ingest_chat(brand, "first", visitor_id=VISITOR_A).conversation
    api.get("/api/customers")  # stamps the token's last_used_at once
    urls = [
        "/api/customers",
        "/api/conversations",
        f"/api/customers/{conversation.customer_id}/conversations",
        f"/api/conversations/{conversation.pk}/messages",
    ]
    before = {url: _queries(api, url) for url in urls}

    for i in range(6):
        other = ingest_chat(
            brand,
            f"more {i}",
            extra_identities=[IdentityClaim(IdentityKind.EMAIL, f"c{i}@example.org")],
            attachments=[InboundAttachment(f"f{i}.txt", "text/plain", b"data")],
        ).conversation
        assign_conversation(agent, other, colleague if i % 2 else agent)
        ingest_chat(
            brand,
            f"again {i}",
            visitor_id=VISITOR_A,
            attachments=[InboundAttachment(f"g{i}.txt", "text/plain", b"data")],
        )
        add_note(colleague, conversation, f"note {i}")
    resolve_conversation(agent, conversation)
    ingest_chat(brand, "new case", visitor_id=VISITOR_A)

    after = {url: _queries(api, url) for url in urls}
    assert after == before, (before, after)
    assert api.get(urls[3]).json()["count"] == 13


# OpenAPI and docs


def test_openapi_document_lists_the_paths(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["info"]["title"] == "Comptoir API"
    assert set(document["paths"]) >= {
        "/api/customers",
        "/api/customers/{customer_id}",
        "/api/customers/{customer_id}/conversations",
        "/api/conversations",
        "/api/conversations/{conversation_id}",
        "/api/conversations/{conversation_id}/messages",
        "/api/conversations/{conversation_id}/assign",
        "/api/conversations/{conversation_id}/resolve",
        "/api/conversations/{conversation_id}/reopen",
    }
    assert document["components"]["securitySchemes"]["ApiTokenAuth"]["scheme"] == "bearer"


def test_docs_page_loads_its_assets_locally(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn." not in html
    assert '"validatorUrl": null' in html, "no call to validator.swagger.io"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200, asset


# Token command


def test_issue_api_token_command_prints_a_working_key(client, agent, brand):
    out = StringIO()
    call_command(
        "issue_api_token",
        agent.user.username,
        "--brand",
        brand.slug,
        "--name",
        "CRM",
        stdout=out,
        stderr=StringIO(),
    )
    key = out.getvalue().strip()
    token = ApiToken.objects.get(name="CRM")
    assert token.membership == agent
    assert key not in {token.key_hash, token.prefix}
    assert client.get("/api/customers", headers=bearer(key)).status_code == 200


def test_issue_api_token_command_refuses_a_brand_the_agent_does_not_work_for(agent, other_brand):
    with pytest.raises(CommandError):
        call_command("issue_api_token", agent.user.username, "--brand", other_brand.slug)
    with pytest.raises(CommandError):
        call_command("issue_api_token", "nobody")


def test_teams_of_the_brand_with_their_members(api, brand, agent, colleague, other_brand):
    shops = Team.objects.create(brand=brand, name="Boutiques")
    shops.members.add(agent, colleague)
    Team.objects.create(brand=other_brand, name="Rivals")
    response = api.get("/api/teams")
    assert response.status_code == 200
    assert response.json() == [
        {"id": shops.pk, "name": "Boutiques", "member_ids": sorted([agent.pk, colleague.pk])}
    ]
    conversation = ingest_chat(brand, "Bonjour").conversation
    Conversation.objects.filter(pk=conversation.pk).update(team=shops)
    assert api.get(f"/api/conversations/{conversation.pk}").json()["team_id"] == shops.pk
