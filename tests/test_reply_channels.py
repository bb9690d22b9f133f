"""The reply box's channel: which channels reach the customer, the agent's choice, failures in
the agent's words, and sending again on another channel."""

import pytest
from django.urls import reverse

from comptoir.conversations.actions import (
    ChannelUnreachableError,
    reply_options,
    send_reply,
)
from comptoir.conversations.models import Channel, Message
from comptoir.customers.models import Identity, IdentityKind
from comptoir.outbox import failures
from comptoir.outbox.models import Delivery, DeliveryStatus
from comptoir.tasks import run_pending
from comptoir.touchpoints.messaging.models import MessagingAccount
from tests.factories import ingest_chat


def chat_with(brand, *identities: tuple[str, str, bool]):
    """A chat conversation whose customer also has ``(kind, value, verified)`` identities."""
    conversation = ingest_chat(brand, "Bonjour").conversation
    for kind, value, verified in identities:
        Identity.objects.create(
            brand=brand,
            customer=conversation.customer,
            kind=kind,
            value=value,
            verified=verified,
        )
    return conversation


def whatsapp_account(brand, *, token: str = "") -> MessagingAccount:
    return MessagingAccount.objects.create(
        brand=brand,
        provider="whatsapp",
        external_id=f"pn-{brand.pk}",
        access_token=token,
        app_secret="secret",
        verify_token="verify",
    )


def test_options_are_the_customers_identities_the_brand_can_send_on(brand):
    conversation = chat_with(
        brand,
        (IdentityKind.EMAIL, "lea@example.org", False),
        (IdentityKind.WHATSAPP, "33612345678", True),
    )
    # No WhatsApp account: WhatsApp cannot reach them yet.
    options = reply_options(conversation)
    assert options.channels == [Channel.WEBCHAT, Channel.EMAIL]
    assert options.default == Channel.WEBCHAT  # the customer's last channel
    whatsapp_account(brand)
    assert reply_options(conversation).channels == [
        Channel.WEBCHAT,
        Channel.EMAIL,
        Channel.WHATSAPP,
    ]


def test_a_failing_address_is_no_option(brand):
    conversation = chat_with(brand, (IdentityKind.EMAIL, "old@example.org", True))
    Identity.objects.filter(value="old@example.org").update(failing_since="2026-01-01T00:00Z")
    assert reply_options(conversation).channels == [Channel.WEBCHAT]


def test_the_reply_leaves_on_the_chosen_channel(brand, agent):
    conversation = chat_with(brand, (IdentityKind.EMAIL, "lea@example.org", True))
    reply = send_reply(agent, conversation, "Par e-mail", channel=Channel.EMAIL)
    assert reply.channel == Channel.EMAIL
    assert send_reply(agent, conversation, "Par défaut").channel == Channel.WEBCHAT
    with pytest.raises(ChannelUnreachableError):
        send_reply(agent, conversation, "Par WhatsApp", channel=Channel.WHATSAPP)


def test_the_reply_box_lists_the_channels_and_posts_the_choice(agent_client, brand):
    conversation = chat_with(brand, (IdentityKind.EMAIL, "lea@example.org", True))
    page = agent_client.get(reverse("console:conversation", args=[conversation.pk])).content
    assert b'<select name="channel" id="composer-channel"' in page
    assert b'<option value="email">E-mail</option>' in page
    assert b'<option value="webchat" selected>' in page
    agent_client.post(
        reverse("console:compose", args=[conversation.pk]),
        {"text": "Je vous écris", "mode": "reply", "channel": "email"},
    )
    assert Message.objects.get(text="Je vous écris").channel == Channel.EMAIL
    # Left at the page's default (web chat), the reply follows the customer, who wrote by
    # e-mail since the page was loaded.
    Message.objects.filter(text="Bonjour", conversation=conversation).update(channel="email")
    agent_client.post(
        reverse("console:compose", args=[conversation.pk]),
        {"text": "Suivi", "mode": "reply", "channel": "webchat", "channel_default": "webchat"},
    )
    assert Message.objects.get(text="Suivi").channel == Channel.EMAIL
    response = agent_client.post(
        reverse("console:compose", args=[conversation.pk]),
        {"text": "Sur WhatsApp ?", "mode": "reply", "channel": "whatsapp"},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 400
    assert "cannot be reached on that channel" in response.content.decode()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "This channel is not set up for sending yet"),
        ("fr", "Ce canal n\u2019est pas encore configur\u00e9 pour l\u2019envoi"),
    ],
)
def test_a_failed_delivery_says_why_in_the_agents_words_and_offers_another_channel(
    agent_client, brand, agent, language, expected
):
    conversation = chat_with(
        brand,
        (IdentityKind.WHATSAPP, "33612345678", True),
        (IdentityKind.EMAIL, "lea@example.org", True),
    )
    whatsapp_account(brand)  # no access token: the demo's situation
    reply = send_reply(agent, conversation, "Votre colis arrive", channel=Channel.WHATSAPP)
    run_pending()
    delivery = Delivery.objects.get(message=reply)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.failure_code == failures.NOT_CONFIGURED
    agent_client.post("/i18n/setlang/", {"language": language, "next": "/console/"})
    page = agent_client.get(reverse("console:thread_fragment", args=[conversation.pk]))
    text = page.content.decode()
    assert expected in text
    assert "access token" not in text and "MESSAGING_DEMO_API_URL" not in text
    assert reverse("console:resend", args=[reply.pk]) in text
    # Sent again by e-mail: a new reply with the same text.
    agent_client.post(reverse("console:resend", args=[reply.pk]), {"channel": "email"})
    again = Message.objects.filter(conversation=conversation).latest("pk")
    assert (again.text, again.channel) == ("Votre colis arrive", Channel.EMAIL)


def test_every_failure_code_has_a_translated_text():
    from django.utils import translation

    for code in failures.AGENT_TEXTS:
        with translation.override("en"):
            english = failures.agent_text(code)
        with translation.override("fr"):
            assert failures.agent_text(code) != english, code
    with translation.override("en"):
        assert failures.agent_text("") == "The message could not be delivered."
