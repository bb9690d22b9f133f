"""Django's ASGI handler with its middleware run in sync mode: one thread hop per request.

Every middleware of the project is synchronous code (Django's own ones are
``MiddlewareMixin``, WhiteNoise is sync-only) and so are the views. Django's
``ASGIHandler`` builds the middleware chain in async mode: then each
``process_request``/``process_response`` is a separate ``sync_to_async`` call,
and WhiteNoise (sync-only) adds an ``async_to_sync`` back to the event loop,
about fifteen hand-offs between the event loop and the request's thread for
one request. Under load those hand-offs cost more CPU than the view itself
(profiled with ``bench/http_ingest.py --py-spy``).

Here the chain is built as under WSGI and run whole in the request's thread
(Django's per-request ``ThreadSensitiveContext`` thread, where the view ran
before too), so a request costs three hand-offs: ``request_started``, the
response, ``request_finished``. Everything else (reading the body, streaming
the answer, client disconnects, signals) is Django's own ``ASGIHandler``.
"""

from asgiref.sync import sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase


class SyncMiddlewareASGIHandler(ASGIHandler):
    """An ``ASGIHandler`` whose middleware chain and view run in one ``sync_to_async`` call.

    Async views still work: the sync chain runs them with ``async_to_sync``, as
    under WSGI.
    """

    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        # thread_sensitive: the thread of this request's ThreadSensitiveContext, where
        # request_finished later closes (returns to the pool) its database connection.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
