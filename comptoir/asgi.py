"""ASGI entry point: HTTP through Django, WebSockets through Channels consumers."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402

from comptoir.observability.asgi import with_request_id  # noqa: E402
from comptoir.realtime.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {"http": with_request_id(django_asgi_app), "websocket": websocket_application}
)
