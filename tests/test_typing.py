"""Typing indicators both ways, and two agents seeing each other in one conversation.

Through the real consumers and channel layer: the widget's "typing" reaches the
brand's consoles (with the customer it is about), an agent's reaches the
customer's widget (not for an internal note) and the other consoles of the brand
(who and where: the collision warning), never another brand's.
"""

import pytest
from channels.db import database_sync_to_async

from comptoir.widget.tokens import issue_visitor_token
from tests.factories import WS_TIMEOUT, ingest_chat, make_agent, make_brand
from tests.test_realtime import console_socket, receive_until, widget_socket

pytestmark = pytest.mark.django_db(transaction=True)

VISITOR = "d" * 32


async def resumed(socket) -> None:
    await socket.send_json_to({"type": "resume", "last_event_id": 0})
    await receive_until(socket, "resumed")


async def next_typing(socket) -> dict:
    while True:
        frame = await socket.receive_json_from(timeout=WS_TIMEOUT)
        if frame["type"] == "typing":
            return frame


async def test_typing_goes_both_ways_and_agents_see_each_other():
    brand, other = (
        await database_sync_to_async(make_brand)(),
        await database_sync_to_async(make_brand)(),
    )
    ada = await database_sync_to_async(make_agent)(brand, first_name="Ada")
    bob = await database_sync_to_async(make_agent)(brand, first_name="Bob")
    outsider = await database_sync_to_async(make_agent)(other)
    message = await database_sync_to_async(ingest_chat)(brand, "Bonjour", visitor_id=VISITOR)
    conversation = message.conversation
    token, _ = await database_sync_to_async(issue_visitor_token)(brand.pk, VISITOR)

    first, second, theirs = (console_socket(m.user) for m in (ada, bob, outsider))
    widget = widget_socket(token)
    for socket in (first, second, theirs, widget):
        assert (await socket.connect())[0]
        await resumed(socket)

    # The customer types: the brand's consoles are told which customer.
    await widget.send_json_to({"type": "typing"})
    for socket in (first, second):
        assert await next_typing(socket) == {
            "type": "typing",
            "who": "customer",
            "customer_id": conversation.customer_id,
        }
    # Ada answers: the widget sees an advisor typing; Bob sees Ada, in this conversation.
    await first.send_json_to({"type": "typing", "conversation_id": conversation.pk})
    assert await next_typing(widget) == {"type": "typing", "who": "agent"}
    frame = await next_typing(second)
    assert (frame["who"], frame["conversation_id"], frame["agent_id"]) == (
        "agent",
        conversation.pk,
        ada.pk,
    )
    assert frame["name"] == ada.display_name
    # Bob writes an internal note: Ada sees it, the customer does not.
    await second.send_json_to({"type": "typing", "conversation_id": conversation.pk, "note": True})
    assert (await next_typing(first))["agent_id"] == bob.pk
    assert await widget.receive_nothing(timeout=0.5)
    # Bob has it open: Ada is told; nobody else's brand.
    await second.send_json_to({"type": "viewing", "conversation_id": conversation.pk})
    viewing = await first.receive_json_from(timeout=WS_TIMEOUT)
    assert viewing == {
        "type": "viewing",
        "conversation_id": conversation.pk,
        "agent_id": bob.pk,
        "name": bob.display_name,
    }
    # Nobody hears their own typing; another brand hears nothing.
    assert await first.receive_nothing(timeout=0.3)
    assert await theirs.receive_nothing(timeout=0.3)
    for socket in (first, second, theirs, widget):
        await socket.disconnect()


async def test_typing_in_another_brand_s_conversation_goes_nowhere():
    brand, other = (
        await database_sync_to_async(make_brand)(),
        await database_sync_to_async(make_brand)(),
    )
    message = await database_sync_to_async(ingest_chat)(brand, "Bonjour", visitor_id=VISITOR)
    insider = await database_sync_to_async(make_agent)(brand)
    outsider = await database_sync_to_async(make_agent)(other)
    token, _ = await database_sync_to_async(issue_visitor_token)(brand.pk, VISITOR)
    watching, intruder = console_socket(insider.user), console_socket(outsider.user)
    widget = widget_socket(token)
    for socket in (watching, intruder, widget):
        assert (await socket.connect())[0]
        await resumed(socket)
    await intruder.send_json_to({"type": "typing", "conversation_id": message.conversation_id})
    assert await widget.receive_nothing(timeout=0.5)
    assert await watching.receive_nothing(timeout=0.3)
    # A typing frame without a conversation is a bad frame.
    await intruder.send_json_to({"type": "typing"})
    error = await intruder.receive_json_from(timeout=WS_TIMEOUT)
    assert error["type"] == "error" and error["code"] == "bad_frame"
    for socket in (watching, widget):
        await socket.disconnect()
