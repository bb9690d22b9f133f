"""The customer widget's HTTP endpoints, driven through Django's test client."""

import io
import time
import uuid

import pytest
from django.core import signing
from django.core.files.base import ContentFile

from comptoir.conversations.actions import add_note, resolve_conversation, send_reply
from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Attachment, Channel, Conversation, Message
from comptoir.customers.actions import link_identity
from comptoir.customers.models import Customer, IdentityKind
from comptoir.events.models import Event
from comptoir.widget.tokens import issue_visitor_token
from tests.factories import ingest_chat

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SESSION_URL = "/widget/api/session"
MESSAGES_URL = "/widget/api/messages"
IDENTIFY_URL = "/widget/api/identify"


def start_session(client, brand, token=None, **extra):
    body = {"brand": brand.slug}
    if token is not None:
        body["token"] = token
    body.update(extra)
    return client.post(SESSION_URL, body, content_type="application/json")


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def upload(name, content, content_type):
    handle = io.BytesIO(content)
    handle.name = name
    handle.content_type = content_type
    return handle


def send(client, token, text="", files=(), client_id=None):
    data = {"text": text, "client_id": client_id or str(uuid.uuid4())}
    if files:
        data["files"] = list(files)
    return client.post(MESSAGES_URL, data, **auth(token))


@pytest.fixture
def visitor_token(client, brand):
    return start_session(client, brand).json()["token"]


# --- session -----------------------------------------------------------------------------


def test_new_session_issues_a_token_and_texts(client, brand):
    response = start_session(client, brand, language="en")
    assert response.status_code == 200
    data = response.json()
    assert data["brand"] == {
        "name": brand.name,
        "slug": brand.slug,
        "color": brand.widget_color,
        "appointments": False,
    }
    assert data["language"] == "en"
    assert data["texts"]["ack"] == "Message received — an advisor will answer you here."
    assert data["customer"] is None
    assert data["messages"] == []
    assert data["last_event_id"] == 0
    assert data["token"]
    assert data["visitor_id"]


def test_language_comes_from_body_then_accept_language_then_brand(client, brand):
    brand.default_language = "fr"
    brand.save()
    assert start_session(client, brand, language="en").json()["language"] == "en"
    by_browser = client.post(
        SESSION_URL,
        {"brand": brand.slug},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="de-DE,en;q=0.8,fr;q=0.5",
    )
    assert by_browser.json()["language"] == "en"
    assert start_session(client, brand).json()["language"] == "fr"


def test_returning_visitor_keeps_identity_and_sees_history(client, brand, agent):
    first = start_session(client, brand).json()
    assert send(client, first["token"], "Bonjour, ma commande ?").status_code == 201
    conversation = Conversation.objects.get()
    send_reply(agent, conversation, "Elle arrive demain.")

    again = start_session(client, brand, token=first["token"]).json()
    assert again["visitor_id"] == first["visitor_id"]
    assert [m["text"] for m in again["messages"]] == [
        "Bonjour, ma commande ?",
        "Elle arrive demain.",
    ]
    assert again["messages"][1]["author_name"] == "Camille"
    assert again["last_event_id"] == Event.objects.order_by("-id").first().pk


def test_history_spans_the_chat_of_all_conversations_but_no_notes_nor_other_channels(
    client, brand, agent
):
    session = start_session(client, brand).json()
    visitor_id = session["visitor_id"]
    ingest_chat(brand, "premier", visitor_id=visitor_id)
    conversation = Conversation.objects.get()
    add_note(agent, conversation, "note interne secrète")
    send_reply(agent, conversation, "réponse")
    resolve_conversation(agent, conversation)
    ingest_chat(brand, "deuxième", visitor_id=visitor_id)
    # The same customer also writes by e-mail: agents see it in one timeline, but
    # the widget only knows an address the visitor typed, so it never shows mail.
    link_identity(conversation.customer, IdentityKind.EMAIL, "a@b.fr")
    ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.EMAIL,
            external_id="<mail-1@b.fr>",
            text="par e-mail",
            identities=[IdentityClaim(IdentityKind.EMAIL, "a@b.fr")],
        )
    )
    data = start_session(client, brand, token=session["token"]).json()
    texts = [m["text"] for m in data["messages"]]
    assert texts == ["premier", "réponse", "deuxième"]
    assert "note interne secrète" not in str(data)
    assert "par e-mail" not in str(data)
    assert all("is_internal_note" not in m for m in data["messages"])


def test_a_typed_email_never_opens_its_owners_mail_to_the_visitor(client, brand, agent):
    """Someone types a stranger's address in the widget; the stranger then writes by e-mail."""
    token = start_session(client, brand).json()["token"]
    client.post(
        "/widget/api/identify",
        {"email": "victim@exemple.fr"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    victim_mail = ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.EMAIL,
            external_id="<order-42@exemple.fr>",
            text="Mon adresse : 3 rue des Lilas",
            identities=[IdentityClaim(IdentityKind.EMAIL, "victim@exemple.fr", verified=True)],
        )
    ).message
    send_reply(agent, victim_mail.conversation, "Votre colis part au 3 rue des Lilas")
    assert "rue des Lilas" not in str(start_session(client, brand, token=token).json())
    assert all("Lilas" not in str(e.customer_payload) for e in Event.objects.all())


def test_expired_token_is_refused_with_token_expired(client, brand, settings, monkeypatch):
    issued_at = time.time() - settings.WIDGET_TOKEN_MAX_AGE - 60
    with monkeypatch.context() as clock:
        clock.setattr(signing.time, "time", lambda: issued_at)
        old_token, _ = issue_visitor_token(brand.pk)
    response = start_session(client, brand, token=old_token)
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert response.json()["error"]
    assert send(client, old_token, "bonjour").status_code == 401


def test_forged_token_is_refused(client, brand, visitor_token):
    forged = signing.dumps({"b": brand.pk, "v": uuid.uuid4().hex}, salt="another-salt")
    for token in (forged, visitor_token[:-3] + "abc", "not-a-token"):
        response = start_session(client, brand, token=token)
        assert response.status_code == 401
        assert response.json()["code"] == "token_invalid"
        assert send(client, token, "bonjour").status_code == 401


def test_token_of_another_brand_is_refused(client, brand, other_brand, visitor_token):
    response = start_session(client, other_brand, token=visitor_token)
    assert response.status_code == 401
    assert response.json()["code"] == "token_wrong_brand"


def test_unknown_brand_is_404(client, db):
    response = client.post(SESSION_URL, {"brand": "nope"}, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_brand"


def test_cors_preflight_is_answered(client, db):
    for url in (SESSION_URL, MESSAGES_URL, IDENTIFY_URL, "/widget/api/attachments/1/"):
        response = client.options(
            url,
            HTTP_ORIGIN="https://shop.example",
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type",
        )
        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "Authorization" in response["Access-Control-Allow-Headers"]
        assert "Content-Type" in response["Access-Control-Allow-Headers"]


def test_json_answers_carry_cors_headers(client, brand):
    assert start_session(client, brand)["Access-Control-Allow-Origin"] == "*"


def test_widget_script_is_served_as_javascript(client, db):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    body = response.content.decode()
    assert "attachShadow" in body
    for html_sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
        assert html_sink not in body, "visitor and agent text must go through textContent"


# --- messages ------------------------------------------------------------------------------


def test_message_creates_customer_conversation_and_event(client, brand, visitor_token):
    response = send(client, visitor_token, "Où est mon colis ?")
    assert response.status_code == 201
    message = response.json()["message"]
    assert message["text"] == "Où est mon colis ?"
    assert message["author_kind"] == "customer"
    assert message["channel"] == "webchat"
    conversation = Conversation.objects.get()
    assert conversation.brand == brand
    assert Event.objects.filter(kind="conversation.created", conversation=conversation).exists()
    visitor_id = start_session(client, brand, token=visitor_token).json()["visitor_id"]
    assert conversation.customer.identities.get().value == visitor_id


def test_retried_send_with_same_client_id_is_not_duplicated(client, brand, visitor_token):
    client_id = str(uuid.uuid4())
    first = send(client, visitor_token, "bonjour", client_id=client_id)
    second = send(client, visitor_token, "bonjour", client_id=client_id)
    assert first.status_code == 201
    assert second.status_code in (200, 201)
    assert second.json()["message"]["id"] == first.json()["message"]["id"]
    assert Message.objects.count() == 1
    assert Event.objects.count() == 1


def test_message_with_image_stores_the_attachment(client, brand, visitor_token):
    response = send(client, visitor_token, "voici", files=[upload("photo.png", PNG, "image/png")])
    assert response.status_code == 201
    (attachment,) = response.json()["message"]["attachments"]
    assert attachment["filename"] == "photo.png"
    assert attachment["content_type"] == "image/png"
    assert Attachment.objects.get().size == len(PNG)


def test_image_alone_is_a_message(client, brand, visitor_token):
    response = send(client, visitor_token, "", files=[upload("photo.png", PNG, "image/png")])
    assert response.status_code == 201
    assert response.json()["message"]["text"] == ""


def test_too_large_attachment_is_refused_but_text_kept(client, brand, visitor_token, settings):
    settings.ATTACHMENT_MAX_BYTES = 32
    response = send(client, visitor_token, "ma photo", files=[upload("big.png", PNG, "image/png")])
    assert response.status_code == 413
    data = response.json()
    assert data["code"] == "file_too_large"
    assert data["error"]
    assert data["message"]["text"] == "ma photo"
    assert data["message"]["attachments"] == []
    assert Message.objects.get().text == "ma photo"
    assert not Attachment.objects.exists()


def test_disallowed_type_is_refused_but_text_kept(client, brand, visitor_token):
    response = send(
        client,
        visitor_token,
        "mon programme",
        files=[upload("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, "application/x-msdownload")],
    )
    assert response.status_code == 415
    assert response.json()["code"] == "file_type_refused"
    assert response.json()["message"]["text"] == "mon programme"
    assert Message.objects.get().text == "mon programme"
    assert not Attachment.objects.exists()


def test_refused_file_does_not_drop_the_accepted_one(client, brand, visitor_token):
    response = send(
        client,
        visitor_token,
        "deux fichiers",
        files=[
            upload("photo.png", PNG, "image/png"),
            upload("page.html", b"<script>alert(1)</script>", "text/html"),
        ],
    )
    assert response.status_code == 415
    message = response.json()["message"]
    assert [a["filename"] for a in message["attachments"]] == ["photo.png"]
    assert Attachment.objects.count() == 1


def test_executable_declared_as_image_is_refused(client, brand, visitor_token):
    response = send(
        client,
        visitor_token,
        "",
        files=[upload("photo.png", b"MZ\x90\x00" + b"\x00" * 60, "image/png")],
    )
    assert response.status_code == 415
    assert response.json()["message"] is None
    assert not Message.objects.exists()


def test_svg_is_refused(client, brand, visitor_token):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = send(client, visitor_token, "", files=[upload("x.svg", svg, "image/svg+xml")])
    assert response.status_code == 415


def test_empty_message_is_refused(client, brand, visitor_token):
    response = send(client, visitor_token, "   ")
    assert response.status_code == 400
    assert response.json()["code"] == "empty_message"
    assert response.json()["error"]
    assert not Message.objects.exists()


def test_errors_are_in_the_visitor_language(client, brand, visitor_token):
    response = client.post(
        MESSAGES_URL,
        {"text": "", "client_id": str(uuid.uuid4())},
        HTTP_ACCEPT_LANGUAGE="en",
        **auth(visitor_token),
    )
    assert response.json()["error"] == "Write a message or add a file."


def test_message_requires_a_token(client, brand):
    response = client.post(MESSAGES_URL, {"text": "x", "client_id": str(uuid.uuid4())})
    assert response.status_code == 401
    assert response.json()["code"] == "token_missing"


def test_message_requires_a_client_id(client, brand, visitor_token):
    response = client.post(MESSAGES_URL, {"text": "x"}, **auth(visitor_token))
    assert response.status_code == 400


# --- attachments -------------------------------------------------------------------------------


def get_attachment(client, attachment_id, token):
    return client.get(
        f"/widget/api/attachments/{attachment_id}/", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_attachment_token_in_the_url_is_refused(client, brand, visitor_token):
    """A link to a file must not carry the visitor's credential (links get shared, logged)."""
    sent = send(client, visitor_token, "", files=[upload("photo.png", PNG, "image/png")])
    attachment_id = sent.json()["message"]["attachments"][0]["id"]
    url = f"/widget/api/attachments/{attachment_id}/?token={visitor_token}"
    assert client.get(url).status_code == 401
    assert get_attachment(client, attachment_id, visitor_token).status_code == 200


def test_visitor_reads_own_image_inline(client, brand, visitor_token):
    sent = send(client, visitor_token, "", files=[upload("photo.png", PNG, "image/png")])
    attachment_id = sent.json()["message"]["attachments"][0]["id"]
    response = get_attachment(client, attachment_id, visitor_token)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_visitor_cannot_read_another_visitors_attachment(client, brand, visitor_token):
    sent = send(client, visitor_token, "", files=[upload("photo.png", PNG, "image/png")])
    attachment_id = sent.json()["message"]["attachments"][0]["id"]
    stranger = start_session(client, brand).json()["token"]
    send(client, stranger, "moi aussi")  # the stranger is a customer too
    assert get_attachment(client, attachment_id, stranger).status_code == 404
    new_visitor = start_session(client, brand).json()["token"]
    assert get_attachment(client, attachment_id, new_visitor).status_code == 404


def test_visitor_of_another_brand_cannot_read_attachment(client, brand, other_brand):
    token = start_session(client, brand).json()["token"]
    sent = send(client, token, "", files=[upload("photo.png", PNG, "image/png")])
    attachment_id = sent.json()["message"]["attachments"][0]["id"]
    rival = start_session(client, other_brand).json()["token"]
    send(client, rival, "bonjour")
    assert get_attachment(client, attachment_id, rival).status_code == 404


def test_internal_note_attachment_is_never_served(client, brand, agent, visitor_token):
    send(client, visitor_token, "bonjour")
    conversation = Conversation.objects.get()
    note = add_note(agent, conversation, "capture d'écran interne")
    attachment = Attachment(
        brand=brand, message=note, filename="interne.png", content_type="image/png", size=len(PNG)
    )
    attachment.file.save("upload", ContentFile(PNG), save=False)
    attachment.save()
    assert get_attachment(client, attachment.pk, visitor_token).status_code == 404


def test_non_media_attachment_is_a_download(client, brand, visitor_token):
    sent = send(
        client, visitor_token, "", files=[upload("facture.pdf", b"%PDF-1.4\n", "application/pdf")]
    )
    attachment_id = sent.json()["message"]["attachments"][0]["id"]
    response = get_attachment(client, attachment_id, visitor_token)
    assert response["Content-Disposition"].startswith("attachment")


def test_attachment_with_bad_token_is_refused(client, brand, visitor_token):
    sent = send(client, visitor_token, "", files=[upload("photo.png", PNG, "image/png")])
    attachment_id = sent.json()["message"]["attachments"][0]["id"]
    assert get_attachment(client, attachment_id, "forged").status_code == 401


# --- identify ----------------------------------------------------------------------------------


def identify(client, token, **body):
    return client.post(IDENTIFY_URL, body, content_type="application/json", **auth(token))


def test_identify_links_email_so_email_channel_finds_the_same_customer(
    client, brand, visitor_token
):
    send(client, visitor_token, "bonjour")
    response = identify(client, visitor_token, email="Lea.Moreau@Exemple.fr", name="Léa Moreau")
    assert response.status_code == 200
    assert response.json() == {
        "received": True,
        "customer": {"name": "Léa Moreau", "email": "lea.moreau@exemple.fr"},
    }
    customer = Customer.objects.get()
    assert customer.display_name == "Léa Moreau"
    result = ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.EMAIL,
            external_id="<reply-1@exemple.fr>",
            text="Je vous écris par e-mail",
            identities=[IdentityClaim(IdentityKind.EMAIL, "lea.moreau@exemple.fr")],
        )
    )
    assert result.message.conversation.customer_id == customer.pk
    assert Customer.objects.count() == 1


def test_identify_before_any_message_creates_the_customer(client, brand, visitor_token):
    response = identify(client, visitor_token, email="nouveau@exemple.fr")
    assert response.json()["received"] is True
    customer = Customer.objects.get()
    assert set(customer.identities.values_list("kind", flat=True)) == {"chat_visitor", "email"}
    send(client, visitor_token, "et maintenant j'écris")
    assert Conversation.objects.get().customer == customer
    session = start_session(client, brand, token=visitor_token).json()
    assert session["customer"] == {"name": "", "email": "nouveau@exemple.fr"}


def test_identify_with_someone_elses_email_links_nothing_and_reveals_nothing(
    client, brand, visitor_token
):
    owner = ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.EMAIL,
            external_id="<owner@exemple.fr>",
            text="message privé du vrai titulaire",
            identities=[IdentityClaim(IdentityKind.EMAIL, "titulaire@exemple.fr")],
            display_name="Vrai Titulaire",
        )
    ).message.conversation.customer
    for already_customer in (False, True):
        if already_customer:
            send(client, visitor_token, "bonjour")
        response = identify(client, visitor_token, email="titulaire@exemple.fr")
        assert response.status_code == 200
        data = response.json()
        assert "Titulaire" not in str(data)
        # Exactly what an address nobody holds gets: the endpoint tells no one who is a customer.
        assert data == {"received": True, "customer": {"name": "", "email": "titulaire@exemple.fr"}}
        stranger_token = start_session(client, brand).json()["token"]
        unknown = identify(client, stranger_token, email="personne@exemple.fr").json()
        assert unknown == {
            "received": True,
            "customer": {"name": "", "email": "personne@exemple.fr"},
        }
    assert owner.identities.count() == 1
    assert Customer.objects.count() == 4  # the owner, the visitor, two strangers
    session = start_session(client, brand, token=visitor_token).json()
    assert "message privé" not in str(session)


def test_identify_refuses_an_invalid_email(client, brand, visitor_token):
    response = identify(client, visitor_token, email="pas-une-adresse")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_email"
    assert not Customer.objects.exists()
