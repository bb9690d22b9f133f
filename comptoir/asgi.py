"""ASGI entry point: HTTP through Django, WebSockets through Channels consumers."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")

import django

django.setup(set_prefix=False)  # what get_asgi_application() does first

from channels.routing import ProtocolTypeRouter  # noqa: E402

from comptoir.http_handler import SyncMiddlewareASGIHandler  # noqa: E402
from comptoir.realtime.routing import websocket_application  # noqa: E402

# HTTP: Django with its middleware run as under WSGI, in one thread hop (http_handler.py).
django_asgi_app = SyncMiddlewareASGIHandler()

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application})
