from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from comptoir.appointments.consumers import AppointmentConsumer, LobbyConsumer
from comptoir.realtime.consumers import ConsoleConsumer, WidgetConsumer

# The console authenticates by session cookie, so only our own origins may open
# it; the widget authenticates by its token and is embedded on any site.
console_websocket = AllowedHostsOriginValidator(
    AuthMiddlewareStack(
        URLRouter(
            [
                path("ws/console/", ConsoleConsumer.as_asgi()),
                path("ws/lobby/<int:location_id>/", LobbyConsumer.as_asgi()),
            ]
        )
    )
)
widget_websocket = URLRouter([path("ws/widget/", WidgetConsumer.as_asgi())])
# A customer's appointment page: its signed token is the key, the page is ours.
appointment_websocket = AllowedHostsOriginValidator(
    URLRouter([path("ws/appointments/<str:token>/", AppointmentConsumer.as_asgi())])
)


async def websocket_application(scope, receive, send):
    if scope["path"].startswith("/ws/widget/"):
        return await widget_websocket(scope, receive, send)
    if scope["path"].startswith("/ws/appointments/"):
        return await appointment_websocket(scope, receive, send)
    return await console_websocket(scope, receive, send)
