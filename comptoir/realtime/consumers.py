"""WebSocket consumers for the agent console and the customer widget.

Both speak the same small protocol. The client sends
``{"type": "resume", "last_event_id": N}`` after connecting and receives every
event it may see with an id above N, then live events; it ignores ids it has
already seen. ``{"type": "ping"}`` is answered with ``{"type": "pong"}``.
``{"type": "typing", …}`` says someone is typing, ``{"type": "viewing", …}``
that an agent has a conversation open (``typing`` and ``viewing`` below): hints
passed on at once to whoever should see them, never stored, never replayed.
Anything else closes the socket with code 4400.

Live frames are hints; the event log is the truth. Each live frame carries its
group's sequence number (``layer.py``): a number out of turn, a group whose
current number is above the socket's (``watcher.py``), publications reported lost
by any process, or a client's ping make the socket catch up from the log, after
the last event it sent in order, before it sends anything newer. The socket
remembers the ids it sent recently and never sends one twice.
"""

import asyncio
import json
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from comptoir.customers.models import Identity, IdentityKind
from comptoir.events.models import Event
from comptoir.observability.metrics import RESUME_EVENTS, SOCKETS_OPEN
from comptoir.realtime.groups import agent_group, brand_inbox_group, customer_group
from comptoir.realtime.health import RateLimitedWarning, count, redis_outage
from comptoir.realtime.layer import with_timeout
from comptoir.realtime.publish import agent_frame, customer_frame
from comptoir.realtime.watcher import watcher
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
# A socket's own catch-ups look this far back for late commits, skipping ids it sent.
CATCH_UP_LATE_SECONDS = 60
SENT_IDS_KEPT = 20000
# A sequence number this far below the socket's last is a restart, not a late frame.
REORDER_WINDOW = 1000
# "Typing" is passed on at most this often per socket and conversation (clients send it
# every few seconds while keys are pressed; they show it for a few seconds more).
TYPING_EVERY_SECONDS = 2.0


_gap_warning = RateLimitedWarning(
    "%d gaps in live frames seen by sockets (last: %s, number %s); they caught up from the log"
)


class ProtocolError(ValueError):
    pass


class EventStreamConsumer(AsyncWebsocketConsumer):
    """Shared protocol handling; subclasses decide who may connect and what they see."""

    groups_joined: list[str]
    authenticated = False
    checked_at = 0.0
    stream = ""  # metrics label: "console" or "widget"
    counted_open = False

    async def __call__(self, scope, receive, send) -> None:
        """Channels' loop, plus a local inbox (the watcher's notes) and a channel layer
        whose failures keep the socket open instead of closing it with 1011."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.base_send = send
        self.inbox: asyncio.Queue = asyncio.Queue()
        try:
            await await_many_dispatch(
                [receive, self.receive_from_layer, self.inbox.get], self.dispatch
            )
        except StopConsumer:
            pass
        finally:
            watcher().unregister(self)

    async def receive_from_layer(self) -> dict[str, Any]:
        delay = 0.5
        while True:
            try:
                return await self.channel_layer.receive(self.channel_name)
            except Exception as error:  # Redis down: the watcher re-joins later
                redis_outage.failed(error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every message; ours run
        # in database_sync_to_async, which does it already: skip a thread hop per frame.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    def notify(self, message: dict[str, Any]) -> None:
        """A note from this process (the watcher), handled in turn with the socket's frames."""
        if self.inbox.empty():
            self.inbox.put_nowait(message)

    async def connect(self) -> None:
        self.groups_joined = []
        self.sequences: dict[str, int | None] = {}
        self.behind_at: dict[str, int] = {}
        self.lost_seen: int | None = None
        self.position: int | None = None  # every visible event up to it was sent (or late)
        self.sent_ids: dict[int, float] = {}
        self.typing_sent: dict[Any, float] = {}
        await self.accept()
        SOCKETS_OPEN.labels(stream=self.stream).inc()
        self.counted_open = True
        self.authenticated = await self.authenticate()
        self.checked_at = time.monotonic()
        if self.authenticated:
            watcher().register(self)

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
        """Join ``group``, knowing its current number first: a frame missed after it shows.

        With Redis unreachable the socket stays open: the watcher joins it once Redis
        answers, and the socket catches up then.
        """
        self.groups_joined.append(group)
        timeout = settings.REALTIME_REDIS_TIMEOUT
        try:
            _, _, current = await with_timeout(self.channel_layer.read_state([group]), timeout)
            self.sequences[group] = current[group]
            await with_timeout(self.channel_layer.group_add(group, self.channel_name), timeout)
        except Exception as error:
            redis_outage.failed(error)
            self.sequences[group] = None

    async def leave(self, group: str) -> None:
        self.groups_joined.remove(group)
        self.sequences.pop(group, None)
        try:
            await with_timeout(
                self.channel_layer.group_discard(group, self.channel_name),
                settings.REALTIME_REDIS_TIMEOUT,
            )
        except Exception as error:  # the membership expires anyway
            redis_outage.failed(error)

    async def disconnect(self, code: int) -> None:
        watcher().unregister(self)
        if self.counted_open:
            SOCKETS_OPEN.labels(stream=self.stream).dec()
            self.counted_open = False
        for group in list(getattr(self, "groups_joined", [])):
            await self.leave(group)

    async def refuse(self, close_code: int, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail})
        await self.close(code=close_code)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, separators=(",", ":")))

    async def send_event(self, frame: dict[str, Any]) -> bool:
        """Send an event frame unless this socket already sent it; True when sent."""
        if frame["id"] in self.sent_ids:
            return False
        now = time.monotonic()
        self.sent_ids[frame["id"]] = now
        if len(self.sent_ids) > SENT_IDS_KEPT:
            for event_id in list(self.sent_ids)[: SENT_IDS_KEPT // 4]:
                del self.sent_ids[event_id]
        await self.send_json(frame)
        return True

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not await self.access_still_granted():
            return
        try:
            frame = self.parse_frame(text_data)
            if frame["type"] == "ping":
                await self.send_json({"type": "pong"})
                # The log is the truth: anything no frame revealed (a publishing process
                # killed before it published) reaches the client by its next ping.
                await self.catch_up("ping")
            elif frame["type"] == "resume":
                await self.resume(self.parse_last_event_id(frame))
            elif frame["type"] == "typing":
                await self.typing(frame)
            elif frame["type"] == "viewing":
                await self.viewing(frame)
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
            await self.send_event(frame)
        if not complete:
            await self.send_json({"type": "reset", "detail": "too many missed events; reload"})
        last = frames[-1]["id"] if frames else last_event_id
        self.position = max(last, self.position or 0)
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

    async def catch_up(self, reason: str) -> None:
        """Send, from the log, what this socket may have missed since its in-order position."""
        if self.position is None:
            return  # the client has not resumed yet: its resume will do it
        frames, complete, covered = await database_sync_to_async(self.unsent_frames)(self.position)
        count("catch_ups", reason=reason)
        sent = 0
        for frame in frames:
            sent += await self.send_event(frame)
        if not complete:
            await self.send_json({"type": "reset", "detail": "too many missed events; reload"})
        self.position = max(self.position, covered)
        if sent:
            count("caught_up_frames", sent)
            logger.info("socket caught up on %d events from the log (%s)", sent, reason)

    def unsent_frames(self, position: int) -> tuple[list[dict[str, Any]], bool, int]:
        """Visible events after ``position``, and recent ones below it, this socket never sent.

        Also says whether that is all of them, and up to which id the answer goes
        (the socket's new position).
        """
        recent = timezone.now() - timedelta(seconds=CATCH_UP_LATE_SECONDS)
        ids = list(
            self.visible_events()
            .filter(
                Q(id__gt=position) | Q(id__gt=position - LATE_COMMIT_IDS, created_at__gte=recent)
            )
            .order_by("id")
            .values_list("id", flat=True)[: CATCH_UP_LIMIT + LATE_COMMIT_IDS + 1]
        )
        after = [i for i in ids if i > position]
        complete = len(after) <= CATCH_UP_LIMIT
        after = after[:CATCH_UP_LIMIT]
        covered = after[-1] if after else position
        wanted = [i for i in ids if i <= covered and i not in self.sent_ids]
        if not wanted:
            return [], complete, covered
        events = Event.objects.filter(id__in=wanted).order_by("id")
        return [self.frame(e) for e in events], complete, covered

    def visible_events(self) -> QuerySet[Event]:
        raise NotImplementedError

    def frame(self, event: Event) -> dict[str, Any]:
        raise NotImplementedError

    async def typing(self, frame: dict[str, Any]) -> None:
        raise ProtocolError("typing is not accepted on this stream")

    async def viewing(self, frame: dict[str, Any]) -> None:
        raise ProtocolError("viewing is not accepted on this stream")

    def typing_due(self, key: Any) -> bool:
        """Whether a typing hint for ``key`` may go out now (at most one per interval)."""
        now = time.monotonic()
        last = self.typing_sent.get(key, 0.0)
        if now - last < TYPING_EVERY_SECONDS:
            return False
        self.typing_sent[key] = now
        return True

    async def pass_on_typing(self, group: str, frame: dict[str, Any]) -> None:
        """Send a typing hint to ``group``, unnumbered: it is not an event of the log."""
        message = {"type": "comptoir.typing", "frame": frame}
        try:
            await with_timeout(
                self.channel_layer.group_send(group, message), settings.REALTIME_REDIS_TIMEOUT
            )
        except Exception:
            logger.debug("typing hint to %s not sent", group, exc_info=True)

    async def comptoir_typing(self, message: dict[str, Any]) -> None:
        frame = message["frame"]
        if frame.get("agent_id") is not None and frame["agent_id"] == getattr(
            self, "membership_id", None
        ):
            return  # one's own typing
        await self.send_json(frame)

    async def comptoir_recheck(self, message: dict[str, Any]) -> None:
        """Access was withdrawn somewhere: check now instead of at the next frame."""
        await self.access_still_granted()

    def gap_before(self, group: str | None, sequence: int | None) -> bool:
        """Record a live frame's sequence number; True when frames were missed before it."""
        if group not in self.sequences or sequence is None:
            return False
        last = self.sequences[group]
        if last is None or sequence > last + 1 or sequence < last - REORDER_WINDOW:
            self.sequences[group] = sequence
            return last is not None or self.position is not None
        if sequence == last + 1:
            self.sequences[group] = sequence
        return False  # a frame published just before the last one, arriving after it

    async def comptoir_event(self, message: dict[str, Any]) -> None:
        if not await self.access_still_granted(at_most_every=LIVE_RECHECK_SECONDS):
            return
        if self.gap_before(message.get("group"), message.get("seq")):
            count("gaps")
            _gap_warning(1, message.get("group"), message.get("seq"))
            await self.catch_up("gap")
        if await self.send_event(message["frame"]) and self.position is not None:
            self.position = max(self.position, message["frame"]["id"])

    async def comptoir_watch(self, message: dict[str, Any]) -> None:
        """The watcher's reading of Redis: catch up when this socket is behind."""
        if not await self.access_still_granted(at_most_every=LIVE_RECHECK_SECONDS):
            return
        behind = message["recovered"]
        if self.lost_seen is not None and message["lost"] != self.lost_seen:
            behind = True
        self.lost_seen = message["lost"]
        # Redis came back empty: every number restarted from zero.
        restarted = set(message["sequences"]) if message.get("restarted") else set()
        for group, current in message["sequences"].items():
            last = self.sequences.get(group)
            previous = self.behind_at.pop(group, None)
            if last is None or current + REORDER_WINDOW < last or (current == 0 < last):
                behind = True  # never knew it, or its number restarted
                restarted.add(group)
            elif previous is not None and last < previous:
                # Already behind at the previous reading (frames in flight arrive
                # between two readings): those frames were lost.
                behind = True
            if last is not None and current > last:
                self.behind_at[group] = current
        if behind:
            await self.catch_up("watch")
            for group, current in message["sequences"].items():
                last = self.sequences.get(group)
                self.sequences[group] = current if group in restarted else max(last, current)
                self.behind_at.pop(group, None)


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
        self.display_name = membership.display_name
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

    async def typing(self, frame: dict[str, Any]) -> None:
        """An agent types in a conversation of their brand.

        The brand's consoles are told (who, where: two agents answering the same
        customer see each other); the customer's widget too, unless it is an
        internal note (``"note": true``). Another brand's conversation, or one
        that does not exist, is ignored like a hint that came too often.
        """
        conversation_id = self.conversation_id_of(frame)
        if not self.typing_due(conversation_id):
            return
        customer_id = await database_sync_to_async(self.customer_of)(conversation_id)
        if customer_id is None:
            return
        await self.pass_on_typing(
            brand_inbox_group(self.brand_id),
            {
                "type": "typing",
                "who": "agent",
                "conversation_id": conversation_id,
                "agent_id": self.membership_id,
                "name": self.display_name,
            },
        )
        if frame.get("note") is not True:
            await self.pass_on_typing(
                customer_group(customer_id), {"type": "typing", "who": "agent"}
            )

    async def viewing(self, frame: dict[str, Any]) -> None:
        """An agent has a conversation open (sent on opening it, then now and then).

        The brand's other consoles showing it warn that someone else is on it.
        """
        conversation_id = self.conversation_id_of(frame)
        if not self.typing_due(("viewing", conversation_id)):
            return
        if await database_sync_to_async(self.customer_of)(conversation_id) is None:
            return
        await self.pass_on_typing(
            brand_inbox_group(self.brand_id),
            {
                "type": "viewing",
                "conversation_id": conversation_id,
                "agent_id": self.membership_id,
                "name": self.display_name,
            },
        )

    @staticmethod
    def conversation_id_of(frame: dict[str, Any]) -> int:
        conversation_id = frame.get("conversation_id")
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            raise ProtocolError(f"{frame['type']} needs a conversation_id")
        return conversation_id

    def customer_of(self, conversation_id: int) -> int | None:
        from comptoir.conversations.models import Conversation

        return (
            Conversation.objects.filter(pk=conversation_id, brand_id=self.brand_id)
            .values_list("customer_id", flat=True)
            .first()
        )


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
                await self.leave(group)
            self.customer_id = None
            await self.find_customer()
        await super().comptoir_event(message)

    async def typing(self, frame: dict[str, Any]) -> None:
        """The visitor types: the brand's consoles showing this customer say so."""
        await self.find_customer()
        if self.customer_id is None or not self.typing_due(self.customer_id):
            return  # nothing sent yet: no conversation to show it in
        await self.pass_on_typing(
            brand_inbox_group(self.visitor.brand_id),
            {"type": "typing", "who": "customer", "customer_id": self.customer_id},
        )

    def visible_events(self) -> QuerySet[Event]:
        if self.customer_id is None:
            return Event.objects.none()
        return Event.objects.filter(customer_id=self.customer_id, customer_payload__isnull=False)

    def frame(self, event: Event) -> dict[str, Any]:
        return customer_frame(event)
