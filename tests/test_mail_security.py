"""Inbound mail and files: sender authentication, masked quarantine, attachment policy.

A forged From of a known customer must neither join nor reveal her conversation; card
numbers never stay in a quarantined raw mail; files of a type the settings refuse are
not stored on any channel; and a stored file is served inline only when it is an image
whose bytes agree, under a name that says so.
"""

import base64
from email.message import EmailMessage

import pytest

from comptoir.conversations.attachment_files import attachment_response
from comptoir.conversations.inbound import InboundAttachment
from comptoir.conversations.models import Attachment, AuthorKind, Conversation, Message
from comptoir.customers.models import Customer
from comptoir.privacy.cards import mask_raw_mail
from comptoir.tenancy.models import Role
from comptoir.touchpoints.email.authentication import (
    aligned,
    authenticate_sender,
    parse_authentication_results,
)
from comptoir.touchpoints.email.models import Mailbox, QuarantinedMail
from comptoir.touchpoints.email.receiving import quarantine_mail, receive_mail
from tests.factories import ingest_chat, make_agent

SUPPORT = "support@maison.example"
PAN = "4111 1111 1111 1111"  # the test Visa number
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def mailbox(brand):
    return Mailbox.objects.create(brand=brand, address=SUPPORT, response_time_hours=24)


def mail(
    text: str,
    *,
    sender: str = "lea@client.example",
    results: list[str] = (),
    in_reply_to: str = "",
    attachments: list[tuple[str, str, bytes]] = (),
    message_id: str = "",
) -> bytes:
    message = EmailMessage()
    for value in results:
        message["Authentication-Results"] = value
    message["From"] = f"Léa <{sender}>"
    message["To"] = SUPPORT
    message["Subject"] = "Ma commande"
    message["Message-ID"] = message_id or f"<{abs(hash((text, sender, tuple(results))))}@x>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(text)
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def receive(raw: bytes):
    return receive_mail(raw, recipients=None, brand=None, source="smtp")


# --- Sender authentication ------------------------------------------------------------------


def test_parsing_authentication_results():
    parsed = parse_authentication_results(
        "mx.maison.example (Postfix); spf=pass smtp.mailfrom=client.example;"
        ' dkim=pass (2048-bit key) header.d=client.example header.s="s1";'
        " dmarc=pass header.from=client.example"
    )
    assert parsed.authserv_id == "mx.maison.example"
    assert [(r.method, r.result) for r in parsed.results] == [
        ("spf", "pass"),
        ("dkim", "pass"),
        ("dmarc", "pass"),
    ]
    assert parsed.of("dkim")[0].properties["header.d"] == "client.example"
    assert aligned("client.example", "mail.client.example")
    assert not aligned("evil.example", "client.example")
    assert not aligned("example", "client.example")


def headers_of(raw: bytes):
    import email

    return email.message_from_bytes(raw)


def test_only_the_trusted_hosts_verdict_counts(settings):
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = ["mx.maison.example"]
    forged = mail("x", results=["mx.evil.example; dmarc=pass header.from=client.example"])
    assert not authenticate_sender(headers_of(forged), "lea@client.example").authenticated
    passed = mail("x", results=["mx.maison.example; dmarc=pass header.from=client.example"])
    assert authenticate_sender(headers_of(passed), "lea@client.example").authenticated
    dkim = mail("x", results=["mx.maison.example; dkim=pass header.d=client.example"])
    assert authenticate_sender(headers_of(dkim), "lea@client.example").authenticated
    unaligned = mail("x", results=["mx.maison.example; dkim=pass header.d=evil.example"])
    assert not authenticate_sender(headers_of(unaligned), "lea@client.example").authenticated
    # The topmost header of the trusted host is its own; one the sender added below is not read.
    below = mail(
        "x",
        results=[
            "mx.maison.example; dmarc=fail header.from=client.example",
            "mx.maison.example; dmarc=pass header.from=client.example",
        ],
    )
    verdict = authenticate_sender(headers_of(below), "lea@client.example")
    assert not verdict.authenticated
    assert verdict.reason == "dmarc=fail (mx.maison.example)"


def known_customer_conversation(brand, mailbox):
    """Léa wrote from her address (authenticated); her conversation holds her address."""
    first = receive(mail("Mon adresse est 3 rue des Lilas", message_id="<lea-1@client.example>"))
    assert first.kind == "ingested"
    return Conversation.objects.get(pk=first.conversation_id)


def test_a_spoofed_known_address_with_dmarc_fail_opens_a_flagged_conversation(brand, mailbox):
    lea = known_customer_conversation(brand, mailbox)
    outcome = receive(
        mail(
            "Donnez-moi l'historique de ma commande",
            results=["mx.maison.example; dmarc=fail (p=reject) header.from=client.example"],
            in_reply_to="<lea-1@client.example>",
        )
    )
    assert outcome.kind == "ingested"
    assert outcome.conversation_id != lea.pk
    spoofed = Conversation.objects.get(pk=outcome.conversation_id)
    assert spoofed.customer_id != lea.customer_id
    assert not spoofed.customer.identities.exists()
    assert lea.messages.count() == 1  # nothing joined her file
    note = spoofed.messages.get(is_internal_note=True)
    assert note.author_kind == AuthorKind.SYSTEM
    assert "lea@client.example" in note.text
    assert "dmarc=fail" in note.text
    assert not outcome.acknowledged


def test_with_a_trusted_mta_an_unauthenticated_mail_is_kept_apart_and_a_passing_one_joins(
    brand, mailbox, settings
):
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = ["mx.maison.example"]
    lea = known_customer_conversation(brand, mailbox)  # no verdict: a customer of its own
    lea_customer = Customer.objects.get(pk=lea.customer_id)
    # Her identity is not verified: that first mail proved nothing.
    assert not lea_customer.identities.get().verified
    spoof = receive(mail("C'est moi", results=["mx.evil.example; dmarc=pass"]))
    assert Conversation.objects.get(pk=spoof.conversation_id).customer_id != lea.customer_id
    genuine = receive(
        mail(
            "Merci pour votre réponse",
            results=["mx.maison.example; spf=pass; dkim=pass header.d=client.example; dmarc=pass"],
        )
    )
    # The authenticated sender owns the address from now on (verified), apart from the spoof.
    owner = Message.objects.get(pk=genuine.message.pk).conversation.customer
    assert owner.identities.get().verified
    assert owner.pk != Conversation.objects.get(pk=spoof.conversation_id).customer_id
    assert not Conversation.objects.get(pk=spoof.conversation_id).customer.identities.exists()


def test_without_trusted_hosts_an_unknown_sender_is_not_flagged(brand, mailbox):
    outcome = receive(mail("Bonjour", results=["mx.maison.example; dmarc=fail"]))
    conversation = Conversation.objects.get(pk=outcome.conversation_id)
    assert not conversation.messages.filter(is_internal_note=True).exists()
    assert not conversation.customer.identities.get().verified


# --- Quarantine -----------------------------------------------------------------------------


def test_quarantined_raw_mail_keeps_no_card_number_in_any_encoding(brand, admin, client):
    message = EmailMessage()
    message["From"] = "lea@client.example"
    message["Subject"] = f"Carte {PAN}"
    message.set_content(f"Ma carte : {PAN}, cryptogramme 123", cte="base64")
    message.add_alternative(
        f"<p>Carte&nbsp;{PAN.replace(' ', '')}</p>", subtype="html", cte="quoted-printable"
    )
    raw = message.as_bytes()
    assert base64.b64encode(f"Ma carte : {PAN}".encode())[:20] in raw.replace(b"\n", b"")
    stored = quarantine_mail(raw, brand=brand, source="smtp", reason="test")
    stored.refresh_from_db()
    kept = bytes(stored.raw)
    decoded = b"".join(
        part.get_payload(decode=True) or b""
        for part in headers_of(kept).walk()
        if not part.is_multipart()
    )
    for digits in (PAN, PAN.replace(" ", "")):
        assert digits.encode() not in kept
        assert digits.encode() not in decoded
    assert b"4111 11** **** 1111" in kept
    assert b"4111 11** **** 1111" in decoded
    client.force_login(admin.user)
    download = client.get(f"/console/mail/quarantine/{stored.pk}/raw/")
    assert download.status_code == 200
    assert PAN.encode() not in download.content


def test_a_mail_without_card_numbers_is_quarantined_byte_for_byte(brand):
    raw = mail("Rien de sensible : commande 12345", message_id="<calme@client.example>")
    assert mask_raw_mail(raw) == raw
    stored = quarantine_mail(raw, brand=brand, source="smtp", reason="test")
    stored.refresh_from_db()
    assert bytes(stored.raw) == raw
    assert QuarantinedMail.objects.count() == 1


# --- Attachments ----------------------------------------------------------------------------


def test_mail_attachments_respect_the_allowed_types(brand, mailbox):
    outcome = receive(
        mail(
            "Voici les fichiers",
            attachments=[
                ("setup.exe", "application/octet-stream", b"MZ\x90\x00" + b"\x00" * 32),
                ("script.js", "text/plain", b"alert(1)"),
                ("poly.html", "image/png", PNG),
                ("photo.png", "image/png", PNG),
                ("facture.pdf", "application/pdf", b"%PDF-1.4\n%..."),
            ],
        )
    )
    message = Message.objects.get(pk=outcome.message.pk)
    assert sorted(message.attachments.values_list("filename", flat=True)) == [
        "facture.pdf",
        "photo.png",
    ]
    for refused in ("setup.exe", "script.js", "poly.html"):
        assert refused in message.text


def test_widget_uploads_named_like_a_page_or_a_program_are_refused(client, brand):
    token = client.post(
        "/widget/api/session", {"brand": brand.slug}, content_type="application/json"
    ).json()["token"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/widget/api/messages",
        {
            "text": "regardez",
            "client_id": "0" * 32,
            "files": [SimpleUploadedFile("poly.html", PNG, content_type="image/png")],
        },
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 415
    assert response.json()["message"]["text"] == "regardez"
    assert not Attachment.objects.exists()


def stored_attachment(brand, filename, content_type, content) -> Attachment:
    message = ingest_chat(
        brand, "fichier", attachments=[InboundAttachment(filename, content_type, content)]
    )
    return message.attachments.get()


@pytest.mark.parametrize(
    ("filename", "content_type", "content", "inline", "served_type", "served_name"),
    [
        ("photo.png", "image/png", PNG, True, "image/png", "photo.png"),
        ("poly.html", "image/png", PNG, True, "image/png", "poly.html.png"),
        (
            "fake.png",
            "image/png",
            b"<html><script>alert(1)</script>",
            False,
            "application/octet-stream",
            "fake.png",
        ),
        ("facture.pdf", "application/pdf", b"%PDF-1.4", False, "application/pdf", "facture.pdf"),
        ("film.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42", False, "video/mp4", "film.mp4"),
        ("logo.svg", "image/svg+xml", b"<svg onload=alert(1)>", False, "image/svg+xml", "logo.svg"),
    ],
)
def test_only_safe_images_are_served_inline(
    brand, filename, content_type, content, inline, served_type, served_name
):
    attachment = stored_attachment(brand, filename, content_type, content)
    response = attachment_response(attachment)
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline" if inline else "attachment")
    assert f'filename="{served_name}"' in disposition
    assert response["Content-Type"] == served_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == content


def test_the_console_serves_a_png_named_html_as_an_image_named_png(client, brand):
    attachment = stored_attachment(brand, "poly.html", "image/png", PNG)
    client.force_login(make_agent(brand, Role.AGENT).user)
    response = client.get(f"/console/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'inline; filename="poly.html.png"'
