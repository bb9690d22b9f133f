"""HTTP under ASGI (``comptoir.http_handler``): middleware and view in one thread, as under WSGI.

Driven through the real ASGI application with channels' ``HttpCommunicator``
(what uvicorn calls), not Django's test client, which runs the WSGI handler.
"""

import json
import threading
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path

from comptoir.asgi import application
from comptoir.conversations.models import Message
from comptoir.http_handler import SyncMiddlewareASGIHandler
from tests.factories import make_brand

# Where each part of one request ran: filled by the middleware and the view below.
seen: dict[str, int] = {}


class RecordingMiddleware:
    """A plain sync middleware (like the project's), recording its thread both ways."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seen["middleware, request"] = threading.get_ident()
        response = self.get_response(request)
        seen["middleware, response"] = threading.get_ident()
        return response


def recording_view(request: HttpRequest) -> HttpResponse:
    seen["view"] = threading.get_ident()
    return HttpResponse("ok")


urlpatterns = [path("recorded/", recording_view)]


@pytest.mark.django_db  # the handler closes the request's connections afterwards
@override_settings(
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "tests.test_http_handler.RecordingMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
)
async def test_middleware_and_view_run_in_one_thread_off_the_event_loop():
    seen.clear()
    handler = SyncMiddlewareASGIHandler()
    communicator = HttpCommunicator(handler, "GET", "/recorded/")
    response = await communicator.get_response(timeout=30)  # a bound: the first loads a lot
    await communicator.wait(timeout=5)
    assert response["status"] == 200
    assert response["body"] == b"ok"
    assert (b"X-Frame-Options", b"DENY") in response["headers"]  # the whole chain ran
    assert seen["middleware, request"] == seen["view"] == seen["middleware, response"]
    assert seen["view"] != threading.get_ident()  # the event loop's thread


async def post(path: str, body: bytes, content_type: str, **headers: str) -> dict:
    all_headers = {"host": "127.0.0.1", "content-type": content_type, **headers}
    communicator = HttpCommunicator(
        application,
        "POST",
        path,
        body=body,
        headers=[(name.encode(), value.encode()) for name, value in all_headers.items()],
    )
    response = await communicator.get_response(timeout=30)  # a bound: the first loads a lot
    # Until the application returns, as uvicorn lets it: request_finished (which gives
    # the database connection back) comes after the answer was sent.
    await communicator.wait(timeout=5)
    return response


async def start_session(brand) -> dict:
    body = json.dumps({"brand": brand.slug}).encode()
    return await post("/widget/api/session", body, "application/json")


@pytest.mark.django_db(transaction=True)
async def test_a_widget_message_through_the_asgi_application_is_stored_and_answered():
    brand = await database_sync_to_async(make_brand)()
    session = await start_session(brand)
    assert session["status"] == 200
    token = json.loads(session["body"])["token"]
    answer = await post(
        "/widget/api/messages",
        f"text=Bonjour&client_id={uuid.uuid4()}".encode(),
        "application/x-www-form-urlencoded",
        authorization=f"Bearer {token}",
    )
    assert answer["status"] == 201, answer["body"]
    headers = dict(answer["headers"])
    assert headers[b"Access-Control-Allow-Origin"] == b"*"  # the view's decorator
    assert headers[b"X-Content-Type-Options"] == b"nosniff"  # SecurityMiddleware
    stored = json.loads(answer["body"])["message"]
    assert await database_sync_to_async(Message.objects.filter(pk=stored["id"]).exists)()


@pytest.mark.django_db(transaction=True)
async def test_requests_reuse_the_pooled_database_connections():
    """Each request runs in a new thread; the pool lends it a connection and takes it back.

    Without the pool, each request opened its own connection to PostgreSQL.
    """
    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's")
    brand = await database_sync_to_async(make_brand)()
    pool = connection.pool
    before = pool.get_stats()
    for _ in range(10):
        assert (await start_session(brand))["status"] == 200
    after = pool.get_stats()
    assert after["requests_num"] - before.get("requests_num", 0) >= 10
    assert after.get("connections_num", 0) - before.get("connections_num", 0) < 10
