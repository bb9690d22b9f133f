"""Every URL has a permission case, and every case is tested against outsiders.

``test_every_url_has_a_permission_case`` fails as soon as a URL is added without
an entry below. For each entry, an anonymous caller and an agent of *another*
brand are turned away (or, for lists, see none of this brand's data).
"""

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from comptoir.conversations.actions import add_note
from comptoir.conversations.inbound import InboundAttachment
from comptoir.tenancy.models import ApiToken
from comptoir.widget.tokens import issue_visitor_token
from tests.factories import ingest_chat

SECRET = "SECRET-TEXT-4242"


@dataclass(frozen=True)
class Case:
    """How a URL is protected.

    ``auth``: "session" (console login), "token" (API bearer), "visitor" (widget
    token), or "public". ``target``: the object the URL names, if any.
    """

    auth: str
    target: str | None = None
    method: str = "get"


CASES: dict[str, Case] = {
    # Console: login required, brand-scoped.
    "console:inbox": Case("session"),
    "console:inbox_fragment": Case("session"),
    "console:logout": Case("public", method="post"),
    "console:login": Case("public"),
    "console:conversation": Case("session", "conversation"),
    "console:thread_fragment": Case("session", "conversation"),
    "console:conversation_panel_fragment": Case("session", "conversation"),
    "console:compose": Case("session", "conversation", "post"),
    "console:assign": Case("session", "conversation", "post"),
    "console:resolve": Case("session", "conversation", "post"),
    "console:reopen": Case("session", "conversation", "post"),
    "console:customer": Case("session", "customer"),
    "console:customer_panel_fragment": Case("session", "customer"),
    "console:attachment": Case("session", "attachment"),
    # REST API: bearer token, brand-scoped. Its description is public.
    "api:openapi-json": Case("public"),
    "api:openapi-view": Case("public"),
    "api:api-root": Case("public"),
    "api:list_customers": Case("token"),
    "api:list_conversations": Case("token"),
    "api:get_customer": Case("token", "customer"),
    "api:list_customer_conversations": Case("token", "customer"),
    "api:get_conversation": Case("token", "conversation"),
    "api:list_messages": Case("token", "conversation"),
    "api:post_message": Case("token", "conversation", "post"),
    "api:assign": Case("token", "conversation", "post"),
    "api:resolve": Case("token", "conversation", "post"),
    "api:reopen": Case("token", "conversation", "post"),
    # Widget: public script and session; everything else needs the visitor token.
    "widget:script": Case("public"),
    "widget:session": Case("public", method="post"),
    "widget:messages": Case("visitor", method="post"),
    "widget:identify": Case("visitor", method="post"),
    "widget:attachment": Case("visitor", "attachment"),
    # Demo shop and language switch.
    "demo:home": Case("public"),
    "demo:shop": Case("public"),
    "set_language": Case("public", method="post"),
}


def url_names(patterns=None, namespace: str | None = None):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue  # Django admin: platform operators only, tested below
            inner = ":".join(n for n in (namespace, pattern.namespace) if n) or None
            yield from url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"unnamed URL {pattern.pattern}"
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_url_has_a_permission_case():
    assert set(url_names()) == set(CASES)


@pytest.fixture
def secret_data(brand, agent):
    message = ingest_chat(
        brand,
        SECRET,
        attachments=[InboundAttachment("photo.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)],
    )
    add_note(agent, message.conversation, f"note {SECRET}")
    return {
        "conversation": message.conversation.pk,
        "customer": message.conversation.customer_id,
        "attachment": message.attachments.get().pk,
    }


def url_for(name: str, case: Case, data: dict) -> str:
    if case.target is None:
        return reverse(name)
    return reverse(name, kwargs={f"{case.target}_id": data[case.target]})


def call(client, case: Case, url: str, **headers):
    if case.method == "post" and case.auth == "token":
        body = {"text": "hello", "assignee_id": None}
        return client.post(url, data=body, content_type="application/json", **headers)
    if case.method == "post":
        return client.post(url, data={"text": "hello"}, **headers)
    return client.get(url, **headers)


PROTECTED = sorted(name for name, case in CASES.items() if case.auth != "public")


@pytest.mark.parametrize("name", PROTECTED)
def test_anonymous_caller_is_turned_away(client, secret_data, name):
    case = CASES[name]
    response = call(client, case, url_for(name, case, secret_data))
    if case.auth == "session":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("console:login"))
    else:
        assert response.status_code == 401
    assert SECRET.encode() not in response.content


@pytest.mark.parametrize("name", PROTECTED)
def test_agent_of_another_brand_sees_nothing(client, secret_data, outsider, name):
    case = CASES[name]
    headers = {}
    if case.auth == "session":
        client.force_login(outsider.user)
    elif case.auth == "token":
        _, key = ApiToken.issue(outsider, "outsider")
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    elif case.auth == "visitor":
        # A visitor of the other brand: a valid token, but nothing here is theirs.
        token, _ = issue_visitor_token(outsider.brand_id)
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    url = url_for(name, case, secret_data)
    response = call(client, case, url, **headers)
    if case.target is not None:
        assert response.status_code in (403, 404), response.status_code
    else:
        assert response.status_code < 500
    assert SECRET.encode() not in response.content


def test_django_admin_is_for_platform_operators_only(agent_client):
    response = agent_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
