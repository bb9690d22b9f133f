"""WebSocket consumers for the agent console and the customer widget.

Both speak the same small protocol. The client sends
``{"type": "resume", "last_event_id": N}`` after connecting and receives every
event it may see with an id above N, then live events; it ignores ids it has
already seen. ``{"type": "ping"}`` is answered with ``{"type": "pong"}``.
Anything else closes the socket with code 4400.
"""

import json
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db.models import Q, QuerySet
from django.utils import timezone

from comptoir.customers.models import Identity, IdentityKind
from comptoir.events.models import Event
from comptoir.observability.metrics import RESUME_EVENTS, SOCKETS_OPEN
from comptoir.realtime.groups import agent_group, brand_inbox_group, customer_group
from comptoir.realtime.publish import agent_frame, customer_frame
from comptoir.routing.presence import record_console_seen
from comptoir.tenancy.access import membership_for_user
from comptoir.tenancy.models import Brand
from comptoir.widget.tokens import VisitorTokenError, read_visitor_token

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_FRAME = 4400
# Beyond this many missed events a client is told to reload its state instead.
CATCH_UP_LIMIT = 1000
LIVE_RECHECK_SECONDS = 30
# How late an event may commit after a later id was published, at most.
LATE_COMMIT_SECONDS = 10
LATE_COMMIT_IDS = 1000


class ProtocolError(ValueError):
    pass


class EventStreamConsumer(AsyncWebsocketConsumer):
    """Shared protocol handling; subclasses decide who may connect and what they see."""

    groups_joined: list[str]
    authenticated = False
    checked_at = 0.0
    stream = ""  # metrics label: "console" or "widget"
    counted_open = False

    async def connect(self) -> None:
        self.groups_joined = []
        await self.accept()
        SOCKETS_OPEN.labels(stream=self.stream).inc()
        self.counted_open = True
        self.authenticated = await self.authenticate()
        self.checked_at = time.monotonic()

    async def authenticate(self) -> bool:
        """Join the client's groups and return True, or refuse the socket and return False."""
        raise NotImplementedError

    async def access_still_granted(self, *, at_most_every: float = 0) -> bool:
        """Check access again (it can be withdrawn); refuse the socket when it is gone.

        Every client frame re-checks (clients ping every 25 s); live events
        re-check at most every ``LIVE_RECHECK_SECONDS``, to keep a query off
        each delivery.
        """
        if not self.authenticated:
            return False
        now = time.monotonic()
        if now - self.checked_at < at_most_every:
            return True
        self.checked_at = now
        if await self.still_authorised():
            return True
        self.authenticated = False
        await self.refuse(CLOSE_UNAUTHENTICATED, "not_authenticated", "access was withdrawn")
        return False

    async def still_authorised(self) -> bool:
        raise NotImplementedError

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.append(group)

    async def disconnect(self, code: int) -> None:
        if self.counted_open:
            SOCKETS_OPEN.labels(stream=self.stream).dec()
            self.counted_open = False
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def refuse(self, close_code: int, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail})
        await self.close(code=close_code)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, separators=(",", ":")))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not await self.access_still_granted():
            return
        try:
            frame = self.parse_frame(text_data)
            if frame["type"] == "ping":
                await self.send_json({"type": "pong"})
            elif frame["type"] == "resume":
                await self.resume(self.parse_last_event_id(frame))
            else:
                raise ProtocolError(f"unknown frame type {frame['type']!r}")
        except ProtocolError as exc:
            logger.info("closing websocket after a bad frame: %s", exc)
            await self.refuse(CLOSE_BAD_FRAME, "bad_frame", str(exc))

    @staticmethod
    def parse_frame(text_data: str | None) -> dict[str, Any]:
        if text_data is None:
            raise ProtocolError("binary frames are not accepted")
        try:
            frame = json.loads(text_data)
        except ValueError:
            raise ProtocolError("frame is not valid JSON") from None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise ProtocolError("frame must be a JSON object with a string 'type'")
        return frame

    @staticmethod
    def parse_last_event_id(frame: dict[str, Any]) -> int:
        value = frame.get("last_event_id", 0)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ProtocolError("last_event_id must be a non-negative integer")
        return value

    async def resume(self, last_event_id: int) -> None:
        frames, complete = await database_sync_to_async(self.missed_frames)(last_event_id)
        RESUME_EVENTS.labels(stream=self.stream).observe(len(frames))
        for frame in frames:
            await self.send_json(frame)
        if not complete:
            await self.send_json({"type": "reset", "detail": "too many missed events; reload"})
        last = frames[-1]["id"] if frames else last_event_id
        await self.send_json({"type": "resumed", "last_event_id": last})

    def missed_frames(self, last_event_id: int) -> tuple[list[dict[str, Any]], bool]:
        """Events after ``last_event_id``, plus the few recent ones just below it.

        Ids are taken at insert and events published at commit, so a short
        transaction can commit its event after a later one the client already
        saw. Recent events below the client's position are sent again (clients
        deduplicate), so such a late commit is not skipped on resume.
        """
        recent = timezone.now() - timedelta(seconds=LATE_COMMIT_SECONDS)
        events = list(
            self.visible_events()
            .filter(
                Q(id__gt=last_event_id)
                | Q(id__gt=last_event_id - LATE_COMMIT_IDS, created_at__gte=recent)
            )
            .order_by("id")[: CATCH_UP_LIMIT + 1]
        )
        return [self.frame(e) for e in events[:CATCH_UP_LIMIT]], len(events) <= CATCH_UP_LIMIT

    def visible_events(self) -> QuerySet[Event]:
        raise NotImplementedError

    def frame(self, event: Event) -> dict[str, Any]:
        raise NotImplementedError

    async def comptoir_recheck(self, message: dict[str, Any]) -> None:
        """Access was withdrawn somewhere: check now instead of at the next frame."""
        await self.access_still_granted()

    async def comptoir_event(self, message: dict[str, Any]) -> None:
        if await self.access_still_granted(at_most_every=LIVE_RECHECK_SECONDS):
            await self.send_json(message["frame"])


class ConsoleConsumer(EventStreamConsumer):
    """An agent's console: every event of the agent's brand."""

    stream = "console"

    async def authenticate(self) -> bool:
        membership = await database_sync_to_async(membership_for_user)(self.scope.get("user"))
        if membership is None:
            await self.refuse(
                CLOSE_UNAUTHENTICATED, "not_authenticated", "log in as an agent first"
            )
            return False
        self.brand_id = membership.brand_id
        self.membership_id = membership.pk
        await self.join(brand_inbox_group(membership.brand_id))
        await self.join(agent_group(membership.pk))
        await self.still_authorised()  # also records that the agent is online
        return True

    async def still_authorised(self) -> bool:
        return await database_sync_to_async(self.membership_and_session_alive)()

    def membership_and_session_alive(self) -> bool:
        """The agent is still active in this brand and has not logged out.

        The same query records the agent as online (``routing.presence``):
        routing gives a customer's handoff to their advisor only while the
        advisor's console is open.
        """
        active = record_console_seen(self.membership_id)
        session = self.scope.get("session")
        session_key = getattr(session, "session_key", None)
        return active and (session_key is None or session.exists(session_key))

    def visible_events(self) -> QuerySet[Event]:
        return Event.objects.filter(brand_id=self.brand_id)

    def frame(self, event: Event) -> dict[str, Any]:
        return agent_frame(event)


class WidgetConsumer(EventStreamConsumer):
    """A visitor's widget: only what the customer may see, across their conversations."""

    stream = "widget"

    customer_id: int | None = None

    async def authenticate(self) -> bool:
        token = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get(
            "token", [None]
        )[0]
        self.token = token
        try:
            self.visitor = read_visitor_token(token)
        except VisitorTokenError as exc:
            await self.refuse(CLOSE_UNAUTHENTICATED, exc.code, exc.reason)
            return False
        if not await database_sync_to_async(
            Brand.objects.filter(pk=self.visitor.brand_id).exists
        )():
            await self.refuse(CLOSE_FORBIDDEN, "unknown_brand", "this brand does not exist")
            return False
        await self.find_customer()
        return True

    async def still_authorised(self) -> bool:
        try:
            read_visitor_token(self.token)
        except VisitorTokenError:
            return False
        return True

    async def find_customer(self) -> None:
        """Join the customer's group once the visitor's first message has created them."""
        if self.customer_id is not None:
            return
        self.customer_id = await database_sync_to_async(self.lookup_customer_id)()
        if self.customer_id is not None:
            await self.join(customer_group(self.customer_id))

    def lookup_customer_id(self) -> int | None:
        return (
            Identity.objects.filter(
                brand_id=self.visitor.brand_id,
                kind=IdentityKind.CHAT_VISITOR,
                value=self.visitor.visitor_id,
            )
            .values_list("customer_id", flat=True)
            .first()
        )

    async def resume(self, last_event_id: int) -> None:
        await self.find_customer()
        await super().resume(last_event_id)

    async def comptoir_event(self, message: dict[str, Any]) -> None:
        if message["frame"].get("kind") in ("customer.merged", "customer.unmerged"):
            # The visitor's identity changed hands (see customers.merging): follow it
            # before telling the widget, so nothing sent after the merge is missed.
            for group in [g for g in self.groups_joined if g.startswith("customer.")]:
                await self.channel_layer.group_discard(group, self.channel_name)
                self.groups_joined.remove(group)
            self.customer_id = None
            await self.find_customer()
        await super().comptoir_event(message)

    def visible_events(self) -> QuerySet[Event]:
        if self.customer_id is None:
            return Event.objects.none()
        return Event.objects.filter(customer_id=self.customer_id, customer_payload__isnull=False)

    def frame(self, event: Event) -> dict[str, Any]:
        return customer_frame(event)
