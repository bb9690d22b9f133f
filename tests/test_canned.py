"""Canned replies: personal and shared, placeholders filled from the conversation, who may
change which. The ``/`` picker in the reply box is driven in ``test_canned_browser``."""

import pytest
from django.urls import reverse

from comptoir.canned.actions import save_canned_reply
from comptoir.canned.models import CannedReply
from comptoir.canned.placeholders import fill
from comptoir.customers.actions import rename_customer
from comptoir.events.models import Event
from comptoir.tenancy.models import Role
from tests.factories import ingest_chat, make_agent

BODY = "Bonjour {{ customer.first_name }}, je suis {{agent.first_name}} de {{ brand.name }}."


@pytest.fixture
def supervisor(brand):
    return make_agent(brand, Role.SUPERVISOR, first_name="Sam")


def replies_for(client, conversation) -> list[dict]:
    response = client.get(reverse("canned:for_conversation", args=[conversation.pk]))
    assert response.status_code == 200
    return response.json()["replies"]


def test_an_agent_keeps_personal_replies_filled_in_for_each_conversation(
    client, brand, agent, colleague
):
    client.force_login(agent.user)
    response = client.post(
        reverse("canned:create"), {"title": "Greeting", "shortcut": "Hello", "body": BODY}
    )
    assert response.status_code == 302
    reply = CannedReply.objects.get(brand=brand)
    assert (reply.owner, reply.shortcut) == (agent, "hello")
    event = Event.objects.get(kind="settings.changed", actor_id=agent.pk)
    assert event.payload["object"] == "canned_reply"

    conversation = ingest_chat(brand, "Bonjour").conversation
    rename_customer(conversation.customer, "Inès Dupont")
    [offered] = replies_for(client, conversation)
    assert offered["shortcut"] == "hello" and not offered["shared"]
    assert offered["text"] == f"Bonjour Inès, je suis {agent.user.first_name} de {brand.name}."

    # A colleague sees none of it.
    client.force_login(colleague.user)
    assert replies_for(client, conversation) == []
    assert client.get(reverse("canned:edit", args=[reply.pk])).status_code == 404


def test_a_customer_without_a_name_gets_no_dangling_space():
    values = {"customer.first_name": "", "agent.first_name": "Ada", "brand.name": "Maison"}
    assert fill(BODY, values) == "Bonjour, je suis Ada de Maison."
    assert fill("{{ customer.password }} {{ x }}", values) == "{{ customer.password }} {{ x }}"


def test_supervisors_share_replies_that_every_agent_uses_but_cannot_change(
    client, brand, agent, supervisor
):
    client.force_login(supervisor.user)
    form = {"title": "Delivery", "shortcut": "delivery", "body": "Sous 48 h.", "shared": "on"}
    assert client.post(reverse("canned:create"), form).status_code == 302
    shared = CannedReply.objects.get(brand=brand, shortcut="delivery")
    assert shared.is_shared

    client.force_login(agent.user)
    conversation = ingest_chat(brand, "Bonjour").conversation
    assert [r["shortcut"] for r in replies_for(client, conversation)] == ["delivery"]
    assert client.get(reverse("canned:edit", args=[shared.pk])).status_code == 403
    assert client.post(reverse("canned:delete", args=[shared.pk])).status_code == 403
    # An agent's form cannot share: their reply is their own.
    client.post(reverse("canned:create"), {**form, "shortcut": "mine"})
    assert CannedReply.objects.get(shortcut="mine").owner == agent
    assert CannedReply.objects.filter(brand=brand).count() == 2


def test_a_shortcut_is_used_once_per_owner(client, brand, agent):
    save_canned_reply(agent, None, {"title": "A", "shortcut": "a", "body": "A"}, shared=False)
    client.force_login(agent.user)
    response = client.post(reverse("canned:create"), {"title": "B", "shortcut": "A", "body": "B"})
    assert response.status_code == 400
    assert "already used" in response.content.decode()


def test_another_brand_s_conversation_offers_nothing(client, brand, outsider):
    conversation = ingest_chat(brand, "Bonjour").conversation
    client.force_login(outsider.user)
    assert client.get(reverse("canned:for_conversation", args=[conversation.pk])).status_code == 404


def test_deleting_a_reply(client, brand, agent):
    reply = save_canned_reply(
        agent, None, {"title": "A", "shortcut": "a", "body": "A"}, shared=False
    )
    client.force_login(agent.user)
    assert client.post(reverse("canned:delete", args=[reply.pk])).status_code == 302
    assert not CannedReply.objects.exists()
