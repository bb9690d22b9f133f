"""Card numbers never reach storage or events unmasked, whatever they are glued to."""

import uuid

import pytest

from comptoir.conversations.inbound import InboundAttachment
from comptoir.conversations.models import Attachment, Message
from comptoir.customers.models import Customer
from comptoir.events.models import Event
from comptoir.privacy.cards import mask_card_numbers
from tests.factories import ingest_chat

PAN = "4111111111111111"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize(
    "text",
    [
        f"CB{PAN}",  # glued to letters
        f"IMG_{PAN}.jpg",  # underscore is \w too: typical phone/scanner file names
        f"carte n{PAN}",
    ],
)
def test_pan_glued_to_a_word_is_masked(text):
    assert PAN not in mask_card_numbers(text)


def test_attachment_file_name_with_pan_is_masked_in_storage_and_events(brand):
    message = ingest_chat(
        brand,
        "voici ma carte",
        attachments=[InboundAttachment(f"scan_{PAN}.png", "image/png", PNG)],
    )
    assert PAN not in Attachment.objects.get(message=message).filename
    assert PAN not in str(Event.objects.get(conversation=message.conversation).payload)


def test_message_text_with_pan_after_letters_is_masked_in_storage(brand):
    message = ingest_chat(brand, f"Ma CB{PAN} exp 12/27")
    assert PAN not in Message.objects.get(pk=message.pk).text


def test_name_left_in_the_widget_is_masked(client, brand):
    token = client.post(
        "/widget/api/session", {"brand": brand.slug}, content_type="application/json"
    ).json()["token"]
    client.post(
        "/widget/api/messages",
        {"text": "bonjour", "client_id": str(uuid.uuid4()), "files": []},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    response = client.post(
        "/widget/api/identify",
        {"email": "lea@exemple.fr", "name": f"Lea {PAN}"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200
    assert PAN not in Customer.objects.get().display_name
    assert not any(PAN in str(e.payload) for e in Event.objects.all())
