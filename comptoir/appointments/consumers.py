"""Live waiting room: WebSockets that tell a customer's page and a lobby screen to refresh.

``/ws/appointments/<token>/``: the customer's page, by its signed token (the only
key, as for the page; a forged one, or one whose booking is gone or closed, is
refused with 4401). ``/ws/lobby/<location_id>/``: a lobby screen, by the staff
session (another brand's location: 4403). Both join the location's queue group
(``realtime.groups.location_queue_group``), to which every change of an
appointment of that location sends a bare nudge after commit (``actions``):
``{"type": "changed"}``. No data travels on the socket: the page then reads its
place (``place/``), the lobby its lists, through their own scoped views, so a
socket can never show more than its page may. A nudge lost with Redis is
covered by the pages' slow fallback poll and by their read on (re)connecting.
``{"type": "ping"}`` is answered with ``{"type": "pong"}`` and re-checks access.
"""

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from comptoir.appointments.access import access_location
from comptoir.appointments.links import appointment_for_token
from comptoir.appointments.models import AppointmentStatus
from comptoir.realtime.groups import location_queue_group
from comptoir.realtime.health import redis_outage
from comptoir.realtime.layer import with_timeout
from comptoir.tenancy.access import membership_for_user

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_FRAME = 4400
# Once closed, a booking's page has nothing left to follow live.
CLOSED_STATUSES = (AppointmentStatus.SERVED, AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


class QueueNudgeConsumer(AsyncWebsocketConsumer):
    """Joins one location's queue group and passes its nudges on; subclasses authenticate."""

    group = ""
    refusal: tuple[int, str] = (CLOSE_UNAUTHENTICATED, "not_authenticated")

    async def connect(self) -> None:
        await self.accept()
        location_id = await database_sync_to_async(self.authorised_location)()
        if location_id is None:
            await self.refuse(*self.refusal)
            return
        self.group = location_queue_group(location_id)
        try:
            await with_timeout(
                self.channel_layer.group_add(self.group, self.channel_name),
                settings.REALTIME_REDIS_TIMEOUT,
            )
        except Exception as error:  # Redis down: the page's fallback poll carries on
            redis_outage.failed(error)
        await self.send_json({"type": "ready"})

    def authorised_location(self) -> int | None:
        """The location this socket may follow, or None (``refusal`` says why)."""
        raise NotImplementedError

    async def refuse(self, close_code: int, code: str) -> None:
        await self.send_json({"type": "error", "code": code})
        await self.close(code=close_code)

    async def disconnect(self, code: int) -> None:
        if self.group:
            try:
                await with_timeout(
                    self.channel_layer.group_discard(self.group, self.channel_name),
                    settings.REALTIME_REDIS_TIMEOUT,
                )
            except Exception as error:  # the membership expires anyway
                redis_outage.failed(error)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = json.loads(text_data or "")
        except ValueError:
            frame = None
        if not isinstance(frame, dict) or frame.get("type") != "ping":
            await self.refuse(CLOSE_BAD_FRAME, "bad_frame")
            return
        if await database_sync_to_async(self.authorised_location)() is None:
            await self.refuse(*self.refusal)  # the booking closed, the agent left the brand
            return
        await self.send_json({"type": "pong"})

    async def comptoir_queue_changed(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "changed"})

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, separators=(",", ":")))


class AppointmentConsumer(QueueNudgeConsumer):
    """The customer's page of one appointment, by its signed token."""

    def authorised_location(self) -> int | None:
        appointment = appointment_for_token(self.scope["url_route"]["kwargs"]["token"])
        if appointment is None or appointment.status in CLOSED_STATUSES:
            self.refusal = (CLOSE_UNAUTHENTICATED, "bad_token")
            return None
        return appointment.location_id


class LobbyConsumer(QueueNudgeConsumer):
    """A lobby screen, opened by a staff member of the location's brand."""

    def authorised_location(self) -> int | None:
        membership = membership_for_user(self.scope.get("user"))
        if membership is None:
            self.refusal = (CLOSE_UNAUTHENTICATED, "not_authenticated")
            return None
        try:
            location = access_location(membership, self.scope["url_route"]["kwargs"]["location_id"])
        except (Http404, PermissionDenied):
            self.refusal = (CLOSE_FORBIDDEN, "forbidden")
            return None
        return location.pk
