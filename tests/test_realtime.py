"""WebSocket consumers: authentication, scoping, resume and malformed frames."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from comptoir.asgi import application
from comptoir.conversations.actions import add_note, send_reply
from comptoir.events.models import Event
from comptoir.realtime.consumers import ConsoleConsumer
from comptoir.tenancy.actions import deactivate_membership
from comptoir.tenancy.models import Membership
from comptoir.widget.tokens import issue_visitor_token
from tests.factories import WS_TIMEOUT, ingest_chat, make_agent, make_brand

pytestmark = pytest.mark.django_db(transaction=True)

VISITOR = "c" * 32


def console_socket(user) -> WebsocketCommunicator:
    """A console socket for ``user``, bypassing the session cookie (tested in live tests)."""
    communicator = WebsocketCommunicator(ConsoleConsumer.as_asgi(), "/ws/console/")
    communicator.scope["user"] = user
    communicator.scope["session"] = {}
    return communicator


def widget_socket(token: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/widget/?token={token}")


async def receive_until(communicator, frame_type: str) -> list[dict]:
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=WS_TIMEOUT)
        frames.append(frame)
        if frame["type"] == frame_type:
            return frames


async def test_console_receives_live_events_of_its_brand_only():
    brand, other = (
        await database_sync_to_async(make_brand)(),
        await database_sync_to_async(make_brand)(),
    )
    agent = await database_sync_to_async(make_agent)(brand)
    outsider = await database_sync_to_async(make_agent)(other)
    mine, theirs = console_socket(agent.user), console_socket(outsider.user)
    assert (await mine.connect())[0] and (await theirs.connect())[0]
    await mine.send_json_to({"type": "resume", "last_event_id": 0})
    await receive_until(mine, "resumed")

    await database_sync_to_async(ingest_chat)(brand, "Bonjour !", visitor_id=VISITOR)

    frame = await mine.receive_json_from(timeout=WS_TIMEOUT)
    assert frame["kind"] == "conversation.created"
    assert frame["payload"]["text"] == "Bonjour !"
    assert await theirs.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await theirs.disconnect()


async def test_console_resume_catches_up_on_missed_events():
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    first = await database_sync_to_async(ingest_chat)(brand, "one", visitor_id=VISITOR)
    seen = await database_sync_to_async(lambda: Event.objects.latest("id").pk)()
    await database_sync_to_async(ingest_chat)(brand, "two", visitor_id=VISITOR)
    await database_sync_to_async(add_note)(agent, first.conversation, "note")

    socket = console_socket(agent.user)
    await socket.connect()
    await socket.send_json_to({"type": "resume", "last_event_id": seen})
    frames = await receive_until(socket, "resumed")
    missed = [f["payload"]["text"] for f in frames[:-1] if f["id"] > seen]
    assert missed == ["two", "note"]
    assert frames[-1]["last_event_id"] == frames[-2]["id"]
    await socket.disconnect()


async def test_resume_sends_recent_events_below_the_position_again():
    """An event may commit after a later id was published: a resume must not skip it."""
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    await database_sync_to_async(ingest_chat)(brand, "old", visitor_id=VISITOR)
    await database_sync_to_async(ingest_chat)(brand, "committed late", visitor_id=VISITOR)
    await database_sync_to_async(ingest_chat)(brand, "seen", visitor_id=VISITOR)
    old, late, seen = await database_sync_to_async(lambda: list(Event.objects.order_by("id")))()
    await database_sync_to_async(
        lambda: Event.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timedelta(minutes=5)
        )
    )()

    socket = console_socket(agent.user)
    await socket.connect()
    await socket.send_json_to({"type": "resume", "last_event_id": seen.pk})
    frames = await receive_until(socket, "resumed")
    assert [f["id"] for f in frames[:-1]] == [late.pk, seen.pk]
    assert frames[-1]["last_event_id"] == seen.pk
    await socket.disconnect()


async def test_anonymous_console_socket_is_closed_with_a_reason():
    socket = console_socket(AnonymousUser())
    await socket.connect()
    frame = await socket.receive_json_from(timeout=WS_TIMEOUT)
    assert frame == {
        "type": "error",
        "code": "not_authenticated",
        "detail": "log in as an agent first",
    }
    assert (await socket.receive_output())["code"] == 4401


@pytest.mark.parametrize("token", ["", "garbage", "eyJ.forged.sig"])
async def test_widget_socket_refuses_bad_tokens(token):
    socket = widget_socket(token)
    await socket.connect()
    frame = await socket.receive_json_from(timeout=WS_TIMEOUT)
    assert frame["type"] == "error" and frame["code"] in {"token_missing", "token_invalid"}
    assert (await socket.receive_output())["code"] == 4401


async def test_widget_socket_refuses_expired_token(settings):
    brand = await database_sync_to_async(make_brand)()
    token, _ = issue_visitor_token(brand.pk)
    settings.WIDGET_TOKEN_MAX_AGE = -1
    socket = widget_socket(token)
    await socket.connect()
    assert (await socket.receive_json_from(timeout=WS_TIMEOUT))["code"] == "token_expired"


async def test_widget_sees_replies_but_never_internal_notes():
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    token, visitor = issue_visitor_token(brand.pk, VISITOR)
    socket = widget_socket(token)
    assert (await socket.connect())[0]
    message = await database_sync_to_async(ingest_chat)(
        brand, "hello", visitor_id=visitor.visitor_id
    )
    # The customer did not exist when the socket opened: resume makes it join.
    await socket.send_json_to({"type": "resume", "last_event_id": 0})
    frames = await receive_until(socket, "resumed")
    assert [f["payload"]["text"] for f in frames[:-1]] == ["hello"]

    await database_sync_to_async(add_note)(agent, message.conversation, "secret note")
    await database_sync_to_async(send_reply)(agent, message.conversation, "Bonjour !")
    frame = await socket.receive_json_from(timeout=WS_TIMEOUT)
    assert frame["payload"]["text"] == "Bonjour !"
    assert "is_internal_note" not in frame["payload"]
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_widget_never_receives_another_customers_events():
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    mine = await database_sync_to_async(ingest_chat)(brand, "mine", visitor_id=VISITOR)
    other = await database_sync_to_async(ingest_chat)(brand, "other", visitor_id="d" * 32)
    token, _ = issue_visitor_token(brand.pk, VISITOR)
    socket = widget_socket(token)
    await socket.connect()
    await socket.send_json_to({"type": "resume", "last_event_id": 0})
    frames = await receive_until(socket, "resumed")
    assert [f["payload"]["text"] for f in frames[:-1]] == ["mine"]
    await database_sync_to_async(send_reply)(agent, other.conversation, "not for you")
    assert await socket.receive_nothing(timeout=0.3)
    await database_sync_to_async(send_reply)(agent, mine.conversation, "for you")
    assert (await socket.receive_json_from(timeout=WS_TIMEOUT))["payload"]["text"] == "for you"
    await socket.disconnect()


@pytest.mark.parametrize(
    ("frame", "binary"),
    [
        ("not json", False),
        ("[1, 2]", False),
        ('{"type": 3}', False),
        ('{"type": "launch_missiles"}', False),
        ('{"type": "resume", "last_event_id": "abc"}', False),
        ('{"type": "resume", "last_event_id": -1}', False),
        (b"\x00\x01", True),
    ],
)
async def test_malformed_frame_closes_only_that_socket(frame, binary):
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    bad, good = console_socket(agent.user), console_socket(agent.user)
    await bad.connect()
    await good.connect()
    if binary:
        await bad.send_to(bytes_data=frame)
    else:
        await bad.send_to(text_data=frame)
    error = await bad.receive_json_from(timeout=WS_TIMEOUT)
    assert error["type"] == "error" and error["code"] == "bad_frame" and error["detail"]
    assert (await bad.receive_output())["code"] == 4400
    await good.send_json_to({"type": "ping"})
    assert await good.receive_json_from(timeout=WS_TIMEOUT) == {"type": "pong"}
    await good.disconnect()


async def test_console_socket_is_closed_once_the_agent_is_deactivated():
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    socket = console_socket(agent.user)
    await socket.connect()
    await socket.send_json_to({"type": "resume", "last_event_id": 0})
    await receive_until(socket, "resumed")

    await database_sync_to_async(Membership.objects.filter(pk=agent.pk).update)(is_active=False)
    await database_sync_to_async(ingest_chat)(brand, "données privées")
    # Live events re-check access at most every LIVE_RECHECK_SECONDS; any frame
    # from the client (a ping every 25 s, a resume) re-checks at once.
    await socket.receive_json_from(timeout=WS_TIMEOUT)  # still inside the live re-check window
    await socket.send_json_to({"type": "resume", "last_event_id": 0})
    frame = await socket.receive_json_from(timeout=WS_TIMEOUT)
    assert frame == {"type": "error", "code": "not_authenticated", "detail": "access was withdrawn"}
    assert (await socket.receive_output())["code"] == 4401
    await socket.disconnect()


async def test_live_events_stop_after_the_recheck_interval(monkeypatch):
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    monkeypatch.setattr("comptoir.realtime.consumers.LIVE_RECHECK_SECONDS", 0)
    socket = console_socket(agent.user)
    await socket.connect()
    await socket.send_json_to({"type": "ping"})  # the socket has joined its groups once it answers
    assert await socket.receive_json_from(timeout=WS_TIMEOUT) == {"type": "pong"}
    await database_sync_to_async(Membership.objects.filter(pk=agent.pk).update)(is_active=False)
    await database_sync_to_async(ingest_chat)(brand, "données privées")
    frame = await socket.receive_json_from(timeout=WS_TIMEOUT)
    assert frame["code"] == "not_authenticated"
    assert "données privées" not in str(frame)
    await socket.disconnect()


async def test_deactivating_an_agent_closes_their_open_console_at_once():
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    socket = console_socket(agent.user)
    await socket.connect()
    await socket.send_json_to({"type": "ping"})  # the socket has joined its groups once it answers
    assert await socket.receive_json_from(timeout=WS_TIMEOUT) == {"type": "pong"}
    await database_sync_to_async(deactivate_membership)(agent)
    frame = await socket.receive_json_from(timeout=WS_TIMEOUT)
    assert frame == {"type": "error", "code": "not_authenticated", "detail": "access was withdrawn"}
    assert (await socket.receive_output())["code"] == 4401
    await database_sync_to_async(ingest_chat)(brand, "données privées")
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_an_open_console_keeps_its_agent_online():
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    assert not agent.is_online()
    socket = console_socket(agent.user)
    await socket.connect()
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=WS_TIMEOUT) == {"type": "pong"}
    agent = await database_sync_to_async(Membership.objects.get)(pk=agent.pk)
    assert agent.is_online()
    first_seen = agent.last_seen_at
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=WS_TIMEOUT) == {"type": "pong"}
    agent = await database_sync_to_async(Membership.objects.get)(pk=agent.pk)
    assert agent.last_seen_at > first_seen  # every ping is a sign of life
    # Three missed pings later, the agent counts as away.
    assert not agent.is_online(now=agent.last_seen_at + timedelta(seconds=91))
    await socket.disconnect()


# Live delivery: a socket finds out what it missed and catches up from the log


async def resumed_console(agent) -> WebsocketCommunicator:
    socket = console_socket(agent.user)
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "resume", "last_event_id": 0})
    await receive_until(socket, "resumed")
    return socket


def texts(frames: list[dict]) -> list[str]:
    return [f["payload"]["text"] for f in frames if f.get("type") == "event"]


def publications_lost(monkeypatch, *, numbered: bool) -> None:
    """Publications vanish, as when a channel overflows (numbered: their sequence
    numbers were taken) or when the publishing process dies before publishing."""
    from comptoir.realtime.publish import publisher

    def vanish(sends):
        if numbered:
            layer = get_channel_layer()
            for group, _, sequenced in sends:
                if sequenced:
                    async_to_sync(layer.next_sequence)(group)

    monkeypatch.setattr(publisher, "submit", vanish)


async def test_a_frame_out_of_turn_makes_the_socket_catch_up_first(monkeypatch):
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    socket = await resumed_console(agent)
    with monkeypatch.context() as patch:
        publications_lost(patch, numbered=True)
        await database_sync_to_async(ingest_chat)(brand, "lost 1", visitor_id=VISITOR)
        await database_sync_to_async(ingest_chat)(brand, "lost 2", visitor_id=VISITOR)
    await database_sync_to_async(ingest_chat)(brand, "live", visitor_id=VISITOR)
    frames = [await socket.receive_json_from(timeout=3) for _ in range(3)]
    assert texts(frames) == ["lost 1", "lost 2", "live"]
    assert await socket.receive_nothing(timeout=0.3)  # and nothing twice
    await socket.disconnect()


async def test_the_watcher_catches_up_when_the_last_frames_are_lost(monkeypatch, settings):
    settings.REALTIME_WATCH_SECONDS = 0.05
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    socket = await resumed_console(agent)
    with monkeypatch.context() as patch:
        publications_lost(patch, numbered=True)
        await database_sync_to_async(ingest_chat)(brand, "lost 1", visitor_id=VISITOR)
        await database_sync_to_async(ingest_chat)(brand, "lost 2", visitor_id=VISITOR)
    frames = [await socket.receive_json_from(timeout=3) for _ in range(2)]
    assert texts(frames) == ["lost 1", "lost 2"]
    await socket.disconnect()


async def test_a_dropped_publication_makes_every_socket_catch_up(settings):
    settings.REALTIME_WATCH_SECONDS = 0.05
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    socket = await resumed_console(agent)
    settings.REALTIME_PUBLISH_QUEUE = 0  # every publication is dropped (and counted)
    await database_sync_to_async(ingest_chat)(brand, "dropped", visitor_id=VISITOR)
    assert texts([await socket.receive_json_from(timeout=5)]) == ["dropped"]
    await socket.disconnect()


async def test_a_ping_catches_up_on_events_never_published(monkeypatch):
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    socket = await resumed_console(agent)
    publications_lost(monkeypatch, numbered=False)  # the publishing process died first
    await database_sync_to_async(ingest_chat)(brand, "never published", visitor_id=VISITOR)
    assert await socket.receive_nothing(timeout=0.3)
    await socket.send_json_to({"type": "ping"})
    frames = await receive_until(socket, "event")
    assert frames[0] == {"type": "pong"}
    assert texts(frames) == ["never published"]
    await socket.disconnect()


async def test_a_widget_catches_up_on_a_gap_in_its_customer_group(monkeypatch):
    brand = await database_sync_to_async(make_brand)()
    agent = await database_sync_to_async(make_agent)(brand)
    message = await database_sync_to_async(ingest_chat)(brand, "hello", visitor_id=VISITOR)
    token, _ = issue_visitor_token(brand.pk, VISITOR)
    socket = widget_socket(token)
    await socket.connect()
    await socket.send_json_to({"type": "resume", "last_event_id": 0})
    await receive_until(socket, "resumed")
    with monkeypatch.context() as patch:
        publications_lost(patch, numbered=True)
        await database_sync_to_async(send_reply)(agent, message.conversation, "lost reply")
    await database_sync_to_async(send_reply)(agent, message.conversation, "live reply")
    frames = [await socket.receive_json_from(timeout=3) for _ in range(2)]
    assert texts(frames) == ["lost reply", "live reply"]
    await socket.disconnect()
