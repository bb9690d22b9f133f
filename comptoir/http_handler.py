"""Django's ASGI handler, with its middleware run in sync mode on a pool of threads.

Every middleware of the project is synchronous code (Django's own ones are
``MiddlewareMixin``, WhiteNoise is sync-only) and so are the views. Django's
``ASGIHandler`` builds the middleware chain in async mode: then each
``process_request``/``process_response`` is a separate ``sync_to_async`` call,
and WhiteNoise (sync-only) adds an ``async_to_sync`` back to the event loop,
about fifteen hand-offs between the event loop and a thread for one request;
and it starts a new thread for every request. Under load those hand-offs and
threads cost more CPU than the view itself (profiled with
``bench/http_ingest.py --py-spy``).

Here the chain is built as under WSGI and each request runs it whole, in one
hand-off, on one of ``settings.HTTP_THREADS`` long-lived threads. As under
WSGI, the database connections that the request used are closed (given back
to the pool) in that thread when it is done. Everything else (reading the
body, streaming the answer, client disconnects, the request signals) is
Django's own ``ASGIHandler``. ``HTTP_THREADS=0`` keeps Django's thread per
request.
"""

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponseBase


class SyncMiddlewareASGIHandler(ASGIHandler):
    """An ``ASGIHandler`` whose middleware chain and view run in one ``sync_to_async`` call.

    Async views still work: the sync chain runs them with ``async_to_sync``, as
    under WSGI.
    """

    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.threads = (
            ThreadPoolExecutor(settings.HTTP_THREADS, thread_name_prefix="comptoir-http")
            if settings.HTTP_THREADS > 0
            else None
        )

    async def __call__(self, scope, receive, send) -> None:
        if self.threads is None or scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        # No ThreadSensitiveContext (a new thread per request): the request's code runs
        # on self.threads; the request signals' sync receivers on asgiref's shared thread.
        return await self.handle(scope, receive, send)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        if self.threads is None:
            # The thread of this request's ThreadSensitiveContext, where request_finished
            # later closes its database connections.
            return await sync_to_async(self.get_response, thread_sensitive=True)(request)
        return await sync_to_async(
            self._get_response_and_close_connections, thread_sensitive=False, executor=self.threads
        )(request)

    def _get_response_and_close_connections(self, request: HttpRequest) -> HttpResponseBase:
        """``get_response``, between the connection checks ``request_started``/``finished`` make.

        Those signals run on another thread here, so this thread does what they
        would: a connection that is broken or past ``CONN_MAX_AGE`` (every one,
        at 0, the default: pooled connections go back to the pool) is closed.
        """
        close_old_connections()
        try:
            return self.get_response(request)
        finally:
            close_old_connections()
