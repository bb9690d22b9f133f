"""The live waiting room's sockets: who may open them, and the nudges they carry (issue 16)."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.urls import path
from django.utils import timezone

from comptoir.appointments.actions import (
    available_slots,
    book_appointment,
    call_next,
    cancel_appointment,
    check_in,
)
from comptoir.appointments.consumers import LobbyConsumer
from comptoir.appointments.links import manage_token
from comptoir.asgi import application
from tests.appointment_helpers import diagnosis, shop
from tests.factories import WS_TIMEOUT, ingest_chat, make_agent, make_brand

pytestmark = pytest.mark.django_db(transaction=True)


def customer_socket(token: str) -> WebsocketCommunicator:
    """The customer's page opens it from our own origin."""
    return WebsocketCommunicator(
        application, f"/ws/appointments/{token}/", headers=[(b"origin", b"http://127.0.0.1")]
    )


def lobby_socket(user, location_id: int) -> WebsocketCommunicator:
    """A lobby socket for ``user``, bypassing the session cookie (as the console's tests)."""
    router = URLRouter([path("ws/lobby/<int:location_id>/", LobbyConsumer.as_asgi())])
    communicator = WebsocketCommunicator(router, f"/ws/lobby/{location_id}/")
    communicator.scope["user"] = user
    communicator.scope["session"] = {}
    return communicator


def booked(name: str = "Shop"):
    brand = make_brand(name)
    location, service = shop(brand), diagnosis(brand)
    customer = ingest_chat(brand, "Bonjour").conversation.customer
    now = timezone.now()
    first = available_slots(location, service, now, now + timedelta(days=14))[0]
    appointment = book_appointment(location, service, first.starts_at, customer=customer)
    return brand, location, appointment


async def refused_with(socket: WebsocketCommunicator) -> tuple[str, int]:
    await socket.connect()
    frame = await socket.receive_json_from(timeout=WS_TIMEOUT)
    return frame.get("code"), (await socket.receive_output(timeout=WS_TIMEOUT))["code"]


async def test_the_customers_page_is_nudged_when_the_line_moves():
    brand, location, appointment = await database_sync_to_async(booked)()
    agent = await database_sync_to_async(make_agent)(brand)
    socket = customer_socket(await database_sync_to_async(manage_token)(appointment))
    assert (await socket.connect())[0]
    assert await socket.receive_json_from(timeout=WS_TIMEOUT) == {"type": "ready"}
    await database_sync_to_async(check_in)(appointment, by=agent)
    assert await socket.receive_json_from(timeout=WS_TIMEOUT) == {"type": "changed"}
    await database_sync_to_async(call_next)(location, agent)
    assert await socket.receive_json_from(timeout=WS_TIMEOUT) == {"type": "changed"}
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=WS_TIMEOUT) == {"type": "pong"}
    await socket.disconnect()


async def test_another_locations_changes_do_not_reach_the_page():
    _, _, mine = await database_sync_to_async(booked)("Mine")
    other_brand, _, theirs = await database_sync_to_async(booked)("Theirs")
    agent = await database_sync_to_async(make_agent)(other_brand)
    socket = customer_socket(await database_sync_to_async(manage_token)(mine))
    await socket.connect()
    assert (await socket.receive_json_from(timeout=WS_TIMEOUT))["type"] == "ready"
    await database_sync_to_async(check_in)(theirs, by=agent)
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


@pytest.mark.parametrize("token", ["garbage", "eyJhIjoxLCJyIjoiWCJ9:forged"])
async def test_a_wrong_token_is_refused(token):
    assert await refused_with(customer_socket(token)) == ("bad_token", 4401)


async def test_the_token_of_a_closed_booking_is_refused():
    _, _, appointment = await database_sync_to_async(booked)()
    await database_sync_to_async(cancel_appointment)(appointment)
    token = await database_sync_to_async(manage_token)(appointment)
    assert await refused_with(customer_socket(token)) == ("bad_token", 4401)


async def test_a_socket_whose_booking_closes_is_refused_at_its_next_ping():
    _, _, appointment = await database_sync_to_async(booked)()
    socket = customer_socket(await database_sync_to_async(manage_token)(appointment))
    await socket.connect()
    assert (await socket.receive_json_from(timeout=WS_TIMEOUT))["type"] == "ready"
    await database_sync_to_async(cancel_appointment)(appointment)
    assert (await socket.receive_json_from(timeout=WS_TIMEOUT))["type"] == "changed"
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from(timeout=WS_TIMEOUT))["code"] == "bad_token"
    assert (await socket.receive_output(timeout=WS_TIMEOUT))["code"] == 4401


async def test_the_lobby_socket_is_for_the_brands_staff_only():
    brand, location, appointment = await database_sync_to_async(booked)()
    outsider = await database_sync_to_async(make_agent)(await database_sync_to_async(make_brand)())
    assert await refused_with(lobby_socket(outsider.user, location.pk)) == ("forbidden", 4403)
    anonymous = lobby_socket(AnonymousUser(), location.pk)
    assert await refused_with(anonymous) == ("not_authenticated", 4401)

    agent = await database_sync_to_async(make_agent)(brand)
    socket = lobby_socket(agent.user, location.pk)
    assert (await socket.connect())[0]
    assert await socket.receive_json_from(timeout=WS_TIMEOUT) == {"type": "ready"}
    await database_sync_to_async(check_in)(appointment, by=agent)
    assert await socket.receive_json_from(timeout=WS_TIMEOUT) == {"type": "changed"}
    await socket.disconnect()


async def test_a_frame_other_than_ping_closes_the_socket():
    _, _, appointment = await database_sync_to_async(booked)()
    socket = customer_socket(await database_sync_to_async(manage_token)(appointment))
    await socket.connect()
    await socket.receive_json_from(timeout=WS_TIMEOUT)
    await socket.send_to(text_data="not json")
    assert (await socket.receive_json_from(timeout=WS_TIMEOUT))["code"] == "bad_frame"
    assert (await socket.receive_output(timeout=WS_TIMEOUT))["code"] == 4400
