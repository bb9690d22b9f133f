"""When the router decides: on a new conversation, when an agent may take work, and a timer.

- ``route_new_conversation``: a new conversation on a channel the brand routes
  at once (``RoutingSettings.route_new_channels``; the assistant's handoff
  routes the others, through ``route_to_person``) joins the queue and is decided.
- ``agent_may_take_work``: a conversation resolved or reassigned, or an agent set
  available, may free someone: the brand's waiting conversations are decided
  again (only when some wait: one indexed query in the event's transaction).
- ``record_agent_activity``: what an agent does keeps them from automatic away.

Runs are ordered per brand (``lock``); the periodic ``routing.tasks.sweep``
catches what the events do not say (a console opened, a threshold passed).
"""

from django.db import transaction

from comptoir.conversations.models import Conversation, Status
from comptoir.conversations.state import lock_conversation
from comptoir.events import kinds
from comptoir.events.actors import ActorKind
from comptoir.events.listeners import on
from comptoir.events.models import Event
from comptoir.routing.models import QueueEntry
from comptoir.routing.presence import record_activity
from comptoir.routing.router import assign_next, queue_conversation
from comptoir.routing.rules import channels_routed_when_new
from comptoir.tenancy.models import Availability


def _routes_when_new(event: Event) -> bool:
    channels = channels_routed_when_new().get(event.brand_id)
    return bool(channels) and event.payload.get("channel") in channels


def _brand_lock(event: Event) -> str:
    return f"routing:{event.brand_id}"


@on(kinds.CONVERSATION_CREATED, when=_routes_when_new, in_worker=True, lock=_brand_lock)
def route_new_conversation(event: Event) -> None:
    with transaction.atomic():
        conversation = Conversation.objects.filter(pk=event.conversation_id).first()
        if conversation is None:
            return
        conversation = lock_conversation(conversation)
        if conversation.assignee_id is not None or conversation.status == Status.RESOLVED:
            return
        queue_conversation(conversation, team=conversation.team)
    assign_next(event.brand_id)


def _may_free_someone(event: Event) -> bool:
    """An agent set available, a conversation resolved, or one an agent moved (not the router's)."""
    if event.kind == kinds.AGENT_AVAILABILITY_CHANGED.name:
        if event.payload.get("availability") != Availability.AVAILABLE:
            return False
    elif event.payload.get("status") != Status.RESOLVED and event.actor_kind != ActorKind.AGENT:
        return False
    return QueueEntry.objects.filter(brand_id=event.brand_id).exists()


@on(
    [kinds.CONVERSATION_UPDATED, kinds.AGENT_AVAILABILITY_CHANGED],
    when=_may_free_someone,
    in_worker=True,
    lock=_brand_lock,
)
def agent_may_take_work(event: Event) -> None:
    assign_next(event.brand_id)


def _by_an_agent(event: Event) -> bool:
    return event.actor_kind == ActorKind.AGENT and event.actor_id is not None


@on([kinds.MESSAGE_CREATED, kinds.CONVERSATION_UPDATED], when=_by_an_agent)
def record_agent_activity(event: Event) -> None:
    record_activity(event.actor_id)
