"""The agent console: access control, actions through the action layer, fragments, escaping."""

import base64
import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from comptoir.console import queries
from comptoir.conversations.actions import add_note, resolve_conversation, send_reply
from comptoir.conversations.inbound import IdentityClaim, InboundAttachment, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Channel, Conversation, Message, Status
from comptoir.customers.models import IdentityKind
from comptoir.events.models import Event
from comptoir.routing.assignment import assign_conversation
from tests.factories import PASSWORD, chat_message, ingest_chat

PNG_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGPQj74MAAIaAV42w0yzAAAAAElFTkSuQmCC"
)
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}


@pytest.fixture
def conversation(brand) -> Conversation:
    return ingest_chat(brand, "Bonjour, ma commande n'est pas arrivée").conversation


@pytest.fixture
def attachment(brand):
    message = ingest_chat(
        brand,
        "Voici la photo",
        attachments=[InboundAttachment("colis.png", "image/png", PNG_PIXEL)],
    )
    return message.attachments.get()


def count_in_tab(html: str, view: str) -> int:
    match = re.search(rf'data-count="{view}">(\d+)<', html)
    assert match, f"no count for tab {view}"
    return int(match.group(1))


def console_urls(conversation: Conversation, attachment) -> list[tuple[str, str]]:
    """Every console URL that names an object of a brand, with its method."""
    c = conversation.pk
    return [
        ("get", reverse("console:conversation", args=[c])),
        ("get", reverse("console:thread_fragment", args=[c])),
        ("get", reverse("console:conversation_panel_fragment", args=[c])),
        ("get", reverse("console:customer", args=[conversation.customer_id])),
        ("get", reverse("console:customer_panel_fragment", args=[conversation.customer_id])),
        ("get", reverse("console:attachment", args=[attachment.pk])),
        ("post", reverse("console:compose", args=[c])),
        ("post", reverse("console:assign", args=[c])),
        ("post", reverse("console:resolve", args=[c])),
        ("post", reverse("console:reopen", args=[c])),
    ]


# --- authentication and brand isolation ---------------------------------------------


def test_login_page_signs_an_agent_in(client, agent):
    page = client.get(reverse("console:login"))
    assert page.status_code == 200
    assert b'name="password"' in page.content
    response = client.post(
        reverse("console:login"), {"username": agent.user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("console:inbox")
    assert client.get(reverse("console:inbox")).status_code == 200


def test_wrong_password_is_refused(client, agent):
    response = client.post(
        reverse("console:login"), {"username": agent.user.username, "password": "nope"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(agent_client):
    response = agent_client.post(reverse("console:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("console:login")
    assert agent_client.get(reverse("console:inbox")).status_code == 302


def test_anonymous_visitors_are_sent_to_login(client, conversation, attachment):
    login = reverse("console:login")
    urls = [
        ("get", reverse("console:inbox")),
        ("get", reverse("console:inbox_fragment")),
        *console_urls(conversation, attachment),
    ]
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{login}?next="), url
    assert not Event.objects.exclude(kind__in=["conversation.created", "message.created"]).exists()


def test_user_without_membership_is_told_why_and_gets_404_elsewhere(client, conversation):
    user = get_user_model().objects.create_user(username="nobody", password=PASSWORD)
    client.force_login(user)
    inbox = client.get(reverse("console:inbox"))
    assert inbox.status_code == 403
    assert "no seat in a brand" in inbox.content.decode()
    assert client.get(reverse("console:inbox_fragment")).status_code == 404
    assert client.get(reverse("console:conversation", args=[conversation.pk])).status_code == 404


def test_agent_of_another_brand_gets_404_on_every_url(outsider_client, conversation, attachment):
    events_before = Event.objects.count()
    for method, url in console_urls(conversation, attachment):
        data = {"text": "hello", "mode": "reply", "assignee": ""} if method == "post" else {}
        response = getattr(outsider_client, method)(url, data)
        assert response.status_code == 404, url
    assert Event.objects.count() == events_before
    assert not Message.objects.filter(direction="out").exists()
    # Their own inbox works and does not list the other brand's conversation.
    inbox = outsider_client.get(reverse("console:inbox"))
    assert inbox.status_code == 200
    assert reverse("console:conversation", args=[conversation.pk]).encode() not in inbox.content
    fragment = outsider_client.get(reverse("console:inbox_fragment"), {"view": "all"})
    assert count_in_tab(fragment.content.decode(), "all") == 0


def test_assigning_to_an_agent_of_another_brand_is_404(agent_client, conversation, outsider):
    response = agent_client.post(
        reverse("console:assign", args=[conversation.pk]), {"assignee": outsider.pk}
    )
    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.assignee is None
    assert not Event.objects.filter(kind="conversation.updated").exists()


def test_assigning_to_garbage_is_404(agent_client, conversation):
    response = agent_client.post(
        reverse("console:assign", args=[conversation.pk]), {"assignee": "me"}
    )
    assert response.status_code == 404


def test_actions_refuse_get(agent_client, conversation):
    for name in ("compose", "assign", "resolve", "reopen"):
        response = agent_client.get(reverse(f"console:{name}", args=[conversation.pk]))
        assert response.status_code == 405, name


# --- actions --------------------------------------------------------------------------


def test_reply_is_sent_through_the_action(agent_client, agent, conversation):
    url = reverse("console:compose", args=[conversation.pk])
    response = agent_client.post(url, {"text": "Je regarde tout de suite.", "mode": "reply"})
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("console:conversation", args=[conversation.pk]) + "?view=all"
    )
    reply = Message.objects.get(direction="out")
    assert reply.author == agent
    assert not reply.is_internal_note
    event = Event.objects.filter(kind="message.created").latest("id")
    assert event.payload["id"] == reply.pk
    assert event.customer_payload["text"] == "Je regarde tout de suite."


def test_note_is_internal_and_flagged_on_the_page(agent_client, conversation):
    url = reverse("console:compose", args=[conversation.pk])
    response = agent_client.post(url, {"text": "Client fidèle, geste ok", "mode": "note"}, **FETCH)
    assert response.status_code == 204
    note = Message.objects.get(direction="out")
    assert note.is_internal_note
    event = Event.objects.filter(kind="message.created").latest("id")
    assert event.payload["is_internal_note"] is True
    assert event.customer_payload is None
    page = agent_client.get(reverse("console:conversation", args=[conversation.pk])).content
    note_html = re.search(rf'<li [^>]*id="message-{note.pk}"[^>]*>', page.decode()).group(0)
    assert "message--note" in note_html
    assert "data-internal-note" in note_html
    customer_message = conversation.messages.get(direction="in")
    customer_html = re.search(rf'<li [^>]*id="message-{customer_message.pk}"[^>]*>', page.decode())
    assert "data-internal-note" not in customer_html.group(0)


def test_empty_reply_is_refused(agent_client, conversation):
    url = reverse("console:compose", args=[conversation.pk])
    response = agent_client.post(url, {"text": "   ", "mode": "reply"}, **FETCH)
    assert response.status_code == 400
    assert not Message.objects.filter(direction="out").exists()


def test_reply_to_a_resolved_conversation_is_a_readable_error(agent_client, agent, conversation):
    resolve_conversation(agent, conversation)
    url = reverse("console:compose", args=[conversation.pk])
    response = agent_client.post(url, {"text": "Re", "mode": "reply"}, **FETCH)
    assert response.status_code == 400
    assert "reopen" in response.content.decode().lower()
    # Without JavaScript: a flash message on the conversation page.
    response = agent_client.post(url, {"text": "Re", "mode": "reply"}, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "This conversation is resolved: reopen it before replying."
    ]
    assert not Message.objects.filter(direction="out").exists()
    # An internal note is still possible.
    agent_client.post(url, {"text": "Note après clôture", "mode": "note"})
    assert Message.objects.get(direction="out").is_internal_note


def test_assign_to_me_a_colleague_and_back_to_nobody(agent_client, agent, colleague, conversation):
    url = reverse("console:assign", args=[conversation.pk])
    for assignee, expected in ((agent.pk, agent), (colleague.pk, colleague), ("", None)):
        response = agent_client.post(url, {"assignee": assignee, "view": "mine"})
        assert response.status_code == 302
        assert response["Location"].endswith("?view=mine")
        conversation.refresh_from_db()
        assert conversation.assignee == expected
    events = Event.objects.filter(kind="conversation.updated").order_by("id")
    assert [e.payload["assignee_id"] for e in events] == [agent.pk, colleague.pk, None]


def test_resolve_and_reopen(agent_client, conversation):
    resolve = reverse("console:resolve", args=[conversation.pk])
    reopen = reverse("console:reopen", args=[conversation.pk])
    assert agent_client.post(resolve, **FETCH).status_code == 204
    conversation.refresh_from_db()
    assert conversation.status == Status.RESOLVED
    assert agent_client.post(resolve, **FETCH).status_code == 400
    page = agent_client.get(reverse("console:conversation", args=[conversation.pk]))
    assert reopen.encode() in page.content
    assert agent_client.post(reopen).status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN
    statuses = [
        e.payload["status"]
        for e in Event.objects.filter(kind="conversation.updated").order_by("id")
    ]
    assert statuses == ["resolved", "open"]
    response = agent_client.post(reopen, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["This conversation is already open."]


def test_timeline_shows_assignments_and_status_changes(agent_client, agent, conversation):
    assign_conversation(agent, conversation, agent)
    resolve_conversation(agent, conversation)
    page = agent_client.get(reverse("console:conversation", args=[conversation.pk])).content
    changes = re.findall(rb'<li class="timeline__change"><span>([^<]+)</span>', page)
    assert changes == [f"Assigned to {agent.display_name}".encode(), b"Resolved"]


# --- pages and fragments ---------------------------------------------------------------


def test_inbox_counts_and_views(agent_client, brand, agent, colleague):
    unassigned = [ingest_chat(brand, f"waiting {n}").conversation for n in range(2)]
    mine = ingest_chat(brand, "mine").conversation
    assign_conversation(agent, mine, agent)
    theirs = ingest_chat(brand, "theirs").conversation
    assign_conversation(agent, theirs, colleague)
    done = ingest_chat(brand, "done").conversation
    resolve_conversation(agent, done)

    html = agent_client.get(reverse("console:inbox")).content.decode()
    assert (count_in_tab(html, "unassigned"), count_in_tab(html, "mine")) == (2, 1)
    assert count_in_tab(html, "all") == 4

    def listed(view: str) -> set[int]:
        fragment = agent_client.get(reverse("console:inbox_fragment"), {"view": view})
        assert fragment.status_code == 200
        return {
            int(i) for i in re.findall(r'data-conversation-id="(\d+)"', fragment.content.decode())
        }

    assert listed("unassigned") == {c.pk for c in unassigned}
    assert listed("mine") == {mine.pk}
    assert listed("all") == {c.pk for c in [*unassigned, mine, theirs]}


def test_inbox_counts_stop_at_the_limit_and_say_so(agent_client, brand, agent, monkeypatch):
    monkeypatch.setattr(queries, "INBOX_COUNT_LIMIT", 2)
    monkeypatch.setattr(queries, "INBOX_LIMIT", 1)
    for n in range(4):
        ingest_chat(brand, f"waiting {n}")
    mine = ingest_chat(brand, "mine").conversation
    assign_conversation(agent, mine, agent)

    html = agent_client.get(reverse("console:inbox_fragment"), {"view": "all"}).content.decode()
    assert 'data-count="all">2+<' in html
    assert 'data-count="unassigned">2+<' in html
    assert count_in_tab(html, "mine") == 1
    # Three counted (the limit and one), one shown: "more than" the two left out.
    assert "More than 2 older conversations not shown" in html
    assert f'href="{reverse("search:console")}?status=open&amp;sort=newest"' in html

    html = agent_client.get(reverse("console:inbox_fragment"), {"view": "mine"}).content.decode()
    assert "older conversation" not in html


def test_inbox_row_shows_customer_channel_excerpt_and_assignee(agent_client, agent, conversation):
    assign_conversation(agent, conversation, agent)
    html = agent_client.get(reverse("console:inbox")).content.decode()
    assert conversation.customer.label in html
    assert "Web chat" in html
    assert "ma commande n&#x27;est pas arrivée" in html
    assert agent.display_name in html


def test_page_carries_the_last_event_id_and_fragment_urls(agent_client, agent, conversation):
    add_note(agent, conversation, "pour mémoire")
    last = Event.objects.latest("id").pk
    html = agent_client.get(reverse("console:conversation", args=[conversation.pk])).content
    assert f'data-last-event-id="{last}"'.encode() in html
    assert reverse("console:thread_fragment", args=[conversation.pk]).encode() in html
    assert reverse("console:conversation_panel_fragment", args=[conversation.pk]).encode() in html
    assert reverse("console:inbox_fragment").encode() in html


def test_fragments_render_the_same_pieces(agent_client, agent, conversation):
    send_reply(agent, conversation, "Voilà le suivi")
    thread = agent_client.get(reverse("console:thread_fragment", args=[conversation.pk]))
    assert thread.status_code == 200
    assert thread["Cache-Control"] == "no-store"
    assert thread.content.decode().lstrip().startswith('<section class="thread" id="thread"')
    assert b"Voil\xc3\xa0 le suivi" in thread.content
    panel = agent_client.get(reverse("console:conversation_panel_fragment", args=[conversation.pk]))
    assert b'id="customer-panel"' in panel.content
    inbox = agent_client.get(reverse("console:inbox_fragment"), {"conversation": conversation.pk})
    assert b'aria-current="page"' in inbox.content


def test_customer_panel_lists_identities_and_every_conversation_on_every_channel(
    agent_client, agent, brand
):
    visitor = uuid.uuid4().hex
    chat = ingest_message(
        chat_message(
            brand,
            "Question sur le chat",
            visitor_id=visitor,
            extra_identities=[
                IdentityClaim(IdentityKind.EMAIL, "Lea@Example.com", verified=True),
                IdentityClaim(IdentityKind.PHONE, "+33612345678"),  # typed, unverified
            ],
        )
    ).message.conversation
    resolve_conversation(agent, chat)
    mail = ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.EMAIL,
            external_id="<msg-1@example.com>",
            text="Suite par e-mail",
            identities=[IdentityClaim(IdentityKind.EMAIL, "lea@example.com")],
        )
    ).message.conversation
    assert mail.pk != chat.pk and mail.customer_id == chat.customer_id

    html = agent_client.get(reverse("console:conversation", args=[mail.pk])).content.decode()
    panel = html[html.index('id="customer-panel"') :]
    assert "lea@example.com" in panel
    assert visitor in panel
    assert "Verified" in panel and "Unverified" in panel
    for other in (chat, mail):
        assert reverse("console:conversation", args=[other.pk]) in panel
    assert "Question sur le chat" in panel and "Suite par e-mail" in panel
    assert "Web chat" in panel and "E-mail" in panel and "Resolved" in panel

    customer_page = agent_client.get(reverse("console:customer", args=[chat.customer_id]))
    assert customer_page.status_code == 200
    assert b"Suite par e-mail" in customer_page.content


def test_language_switcher_sets_the_html_lang(agent_client):
    page = agent_client.get(reverse("console:inbox")).content.decode()
    assert '<html lang="en">' in page
    assert 'action="/i18n/setlang/"' in page
    assert 'name="next" value="/console/"' in page
    response = agent_client.post("/i18n/setlang/", {"language": "fr", "next": "/console/"})
    assert response.status_code == 302
    assert '<html lang="fr">' in agent_client.get(reverse("console:inbox")).content.decode()


# --- attachments ------------------------------------------------------------------------


def test_image_attachment_is_a_thumbnail_served_inline(agent_client, attachment):
    url = reverse("console:attachment", args=[attachment.pk])
    page = agent_client.get(
        reverse("console:conversation", args=[attachment.message.conversation_id])
    )
    assert f'<img src="{url}"'.encode() in page.content
    response = agent_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PNG_PIXEL


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("facture.pdf", "application/pdf"),
        ("logo.svg", "image/svg+xml"),
        ("notes.txt", "text/plain"),
        ("page.html", "text/html"),
    ],
)
def test_other_attachments_are_downloads(agent_client, brand, filename, content_type):
    message = ingest_chat(
        brand, "pièce jointe", attachments=[InboundAttachment(filename, content_type, b"data")]
    )
    attachment = message.attachments.get()
    url = reverse("console:attachment", args=[attachment.pk])
    page = agent_client.get(reverse("console:conversation", args=[message.conversation_id]))
    assert f'<img src="{url}"'.encode() not in page.content
    assert f'<span class="attachment__name">{filename}</span>'.encode() in page.content
    response = agent_client.get(url)
    assert response["Content-Disposition"].startswith("attachment")
    assert filename in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_malformed_content_type_is_served_as_bytes(agent_client, brand):
    message = ingest_chat(
        brand,
        "x",
        attachments=[InboundAttachment("x.bin", "text/html\r\nX-Evil: 1", b"<b>hi</b>")],
    )
    response = agent_client.get(reverse("console:attachment", args=[message.attachments.get().pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


# --- escaping -----------------------------------------------------------------------------


def test_customer_supplied_text_is_escaped(agent_client, agent, brand):
    message = ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.WEBCHAT,
            external_id=uuid.uuid4().hex,
            text=HOSTILE,
            identities=[IdentityClaim(IdentityKind.CHAT_VISITOR, uuid.uuid4().hex)],
            attachments=[InboundAttachment(HOSTILE, "application/pdf", b"%PDF")],
            display_name=HOSTILE,
        )
    ).message
    conversation = message.conversation
    add_note(agent, conversation, HOSTILE)
    escaped = b"&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
    urls = [
        reverse("console:inbox"),
        reverse("console:conversation", args=[conversation.pk]),
        reverse("console:thread_fragment", args=[conversation.pk]),
        reverse("console:conversation_panel_fragment", args=[conversation.pk]),
        reverse("console:customer", args=[conversation.customer_id]),
        reverse("console:inbox_fragment"),
    ]
    for url in urls:
        content = agent_client.get(url).content
        assert b"<script>alert(1)" not in content, url
        assert b"<img src=x" not in content, url
        assert escaped in content, url


# --- query counts ---------------------------------------------------------------------------

# Session, user, membership, last event id, the agent's saved views (search), then the
# page's own fixed queries.
MAX_INBOX_QUERIES = 7
# +2 for the identity-resolution part of the customer panel (proposals, merges), +1 for the
# audit entry (who viewed the conversation), +1 for the
# SLA badge (the soonest running clock), +1 for the agent's saved views.
MAX_CONVERSATION_QUERIES = 18


def make_busy_brand(brand, agent, colleague, conversations: int) -> Conversation:
    """``conversations`` open conversations, the last one with as many messages and files."""
    for n in range(conversations):
        conversation = ingest_chat(brand, f"Demande {n}").conversation
        assign_conversation(agent, conversation, agent if n % 2 else colleague)
    visitor = uuid.uuid4().hex
    for n in range(conversations):
        ingest_chat(
            brand,
            f"Message {n}",
            visitor_id=visitor,
            attachments=[InboundAttachment(f"photo{n}.png", "image/png", PNG_PIXEL)],
        )
    busy = Conversation.objects.get(customer__identities__value=visitor)
    for n in range(conversations):
        send_reply(agent, busy, f"Réponse {n}")
        add_note(colleague, busy, f"Note {n}")
    assign_conversation(agent, busy, colleague)
    return busy


@pytest.mark.parametrize("conversations", [3, 30])
def test_page_query_counts_do_not_grow(
    agent_client, brand, agent, colleague, conversations, django_assert_max_num_queries
):
    busy = make_busy_brand(brand, agent, colleague, conversations)
    with django_assert_max_num_queries(MAX_INBOX_QUERIES):
        assert agent_client.get(reverse("console:inbox")).status_code == 200
    with django_assert_max_num_queries(MAX_INBOX_QUERIES):
        assert agent_client.get(reverse("console:inbox_fragment")).status_code == 200
    with django_assert_max_num_queries(MAX_CONVERSATION_QUERIES):
        page = agent_client.get(reverse("console:conversation", args=[busy.pk]))
    assert page.status_code == 200
    assert page.content.count(b'class="message ') == 3 * conversations
    with django_assert_max_num_queries(MAX_CONVERSATION_QUERIES):
        assert (
            agent_client.get(reverse("console:thread_fragment", args=[busy.pk])).status_code == 200
        )
    with django_assert_max_num_queries(MAX_CONVERSATION_QUERIES):
        response = agent_client.get(reverse("console:conversation_panel_fragment", args=[busy.pk]))
        assert response.status_code == 200


# --- What the inbox and the conversation show of an e-mail -----------------------------------


def test_the_mail_s_subject_shows_and_the_preview_is_the_customer_s_words_not_the_ack(
    agent_client, brand, settings, tmp_path
):
    from comptoir.touchpoints.email.models import Mailbox
    from tests.test_email_inbound import SUPPORT, acknowledgements, mail, receive

    settings.EMAIL_FILE_PATH = str(tmp_path)  # the acknowledgement leaves as a file
    Mailbox.objects.create(brand=brand, address=SUPPORT, acknowledge=True)
    outcome = receive(mail("Le colis est arrivé cassé.", subject="Vase cassé à la livraison"))
    conversation = Conversation.objects.get(pk=outcome.conversation_id)
    assert acknowledgements(conversation)  # the latest message is now the acknowledgement

    inbox = agent_client.get(reverse("console:inbox") + "?view=all").content.decode()
    item = inbox[inbox.index(f'data-conversation-id="{conversation.pk}"') :]
    item = item[: item.index("</a>")]
    assert "Vase cassé à la livraison" in item
    assert "Le colis est arrivé cassé." in item
    page = agent_client.get(reverse("console:conversation", args=[conversation.pk]))
    assert (
        'class="thread__subject" data-subject>Vase cassé à la livraison<' in page.content.decode()
    )
