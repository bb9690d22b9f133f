"""Who handles a conversation: an agent's assignment, a handoff's routing, a call's answerer.

Every rule that gives a conversation to someone lives here, so that the
console, the API, the assistant and the phone channel give work out the same
way. The decisions themselves are ``routing.router.assign_next``'s; availability
(``Membership.is_available``) is kept by ``routing.presence``.
"""

import logging
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import transaction

from comptoir.conversations.models import Conversation, Status
from comptoir.conversations.state import (
    ConversationStateError,
    conversation_changed,
    lock_conversation,
)
from comptoir.events import kinds
from comptoir.events.actors import BOT, SYSTEM, Actor
from comptoir.events.log import append_event
from comptoir.routing import clock
from comptoir.routing.models import AgentProfile, QueueEntry
from comptoir.routing.router import Reason, assign_next, queue_conversation
from comptoir.tenancy.models import Brand, Membership, Team

if TYPE_CHECKING:
    from comptoir.assistant.models import Intent

logger = logging.getLogger(__name__)


def assign_conversation(
    actor: Membership | None,
    conversation: Conversation,
    assignee: Membership | None,
    *,
    reason: Reason | None = None,
) -> Conversation:
    """Give the conversation to ``assignee`` (None: back to the unassigned queue).

    ``actor``: the agent who assigned it (None: Comptoir's own rule). A person's
    choice goes past the router (and past capacity: they know what they do); it
    is recorded as ``conversation.assigned`` with ``reason`` *manual* (nobody
    held it), *transfer* (from someone else) or what the caller says
    (*answered*: the agent who picked up a call).
    """
    if assignee is not None and (
        assignee.brand_id != conversation.brand_id or not assignee.is_active
    ):
        raise ConversationStateError("assignee is not an active agent of this brand")
    now = clock.now()
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        previous = conversation.assignee_id
        if previous == (assignee.pk if assignee else None):
            return conversation
        conversation.assignee = assignee
        conversation.save(update_fields=["assignee"])
        actor_of = Actor.agent_or(actor, SYSTEM)
        conversation_changed(
            conversation,
            actor=actor_of,
            status_changed=False,
            notify_agent_id=assignee.pk if assignee else None,
        )
        entry = QueueEntry.objects.filter(conversation=conversation).first()
        waited = None
        if entry is not None and assignee is not None:
            waited = max(0, int((now - entry.queued_at).total_seconds()))
            entry.delete()
        append_event(
            conversation.brand_id,
            kinds.CONVERSATION_ASSIGNED,
            {
                "conversation_id": conversation.pk,
                "assignee_id": assignee.pk if assignee else None,
                "team_id": conversation.team_id,
                "previous_assignee_id": previous,
                "reason": str(reason or (Reason.TRANSFER if previous else Reason.MANUAL)),
                "waited_seconds": waited,
                "assigned_at": now.isoformat(),
            },
            actor=actor_of,
            conversation=conversation,
        )
        if assignee is not None:
            AgentProfile.objects.filter(membership_id=assignee.pk).update(last_assigned_at=now)
    return conversation


def transfer_to_team(
    actor: Membership | None,
    conversation: Conversation,
    team: Team,
    *,
    now: datetime | None = None,
) -> Conversation:
    """Move the conversation to ``team``'s queue (its agent lets it go); the router takes it on.

    Recorded as ``conversation.assigned`` with reason *transfer* and no assignee;
    a team with ``auto_assign`` gives it at once to a free member (a second event).
    """
    if team.brand_id != conversation.brand_id:
        raise ConversationStateError("team belongs to another brand")
    now = now or clock.now()
    actor_of = Actor.agent_or(actor, SYSTEM)
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        if conversation.status == Status.RESOLVED:
            raise ConversationStateError("conversation is resolved")
        previous = conversation.assignee_id
        conversation.assignee = None
        conversation.team = team
        conversation.save(update_fields=["assignee", "team"])
        conversation_changed(conversation, actor=actor_of, status_changed=False)
        append_event(
            conversation.brand_id,
            kinds.CONVERSATION_ASSIGNED,
            {
                "conversation_id": conversation.pk,
                "assignee_id": None,
                "team_id": team.pk,
                "previous_assignee_id": previous,
                "reason": str(Reason.TRANSFER),
                "waited_seconds": None,
                "assigned_at": now.isoformat(),
            },
            actor=actor_of,
            conversation=conversation,
        )
        queue_conversation(conversation, team=team, now=now)
        assign_next(conversation.brand_id, now=now, conversation_id=conversation.pk, actor=actor_of)
    return Conversation.objects.select_related("assignee__user", "team").get(pk=conversation.pk)


class Routing(StrEnum):
    """Where ``route_to_person`` sent a conversation."""

    ADVISOR = "advisor"
    # No named advisor: the agent who last handled the customer (``RoutingSettings.advisor_mode``).
    LAST_AGENT = "last_agent"
    TEAM = "team"
    # A free member of the team (``Team.auto_assign``), chosen by ``routing.assign_next``.
    TEAM_MEMBER = "team_member"
    QUEUE = "queue"
    ALREADY_ASSIGNED = "assigned"


def handoff_team(intent: "Intent | None", *, confident: bool) -> Team | None:
    """The team a handoff goes to: that of the intent the customer asked about, if sure of it.

    A guess would leave the customer waiting in a queue that does not handle
    their request; without a recognised intent the handoff goes to the advisor
    or the brand's queue (``route_to_person``).
    """
    if intent is None or not confident:
        return None
    return intent.team


def route_to_person(
    actor: Membership | None,
    conversation: Conversation,
    team: Team | None = None,
    *,
    intent_id: int | None = None,
    language: str = "",
    now: datetime | None = None,
) -> Routing:
    """Send a conversation a person must take over (the assistant's handoff) to someone.

    The conversation joins the router's queue (``routing.router.queue_conversation``:
    the skills of ``intent_id`` and of its channel, the customer's ``language``)
    and ``assign_next`` decides for it at once: the customer's own advisor when
    available with spare capacity (customers want one interlocutor who knows
    them, but not to wait for one who is away), else a free member of ``team``
    when it has ``auto_assign``; otherwise it waits in the team's queue ("My
    teams") or the brand's, where the router's next runs (an agent freed, the
    periodic sweep) take it on. A conversation an agent already holds stays with
    them. ``actor``: None for the assistant's handoff.
    """
    if team is not None and team.brand_id != conversation.brand_id:
        raise ConversationStateError("team belongs to another brand")
    now = now or clock.now()
    actor_of = Actor.agent_or(actor, BOT)
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        if conversation.assignee_id is not None:
            return Routing.ALREADY_ASSIGNED
        team_changed = team is not None and conversation.team_id != team.pk
        if team_changed:
            conversation.team = team
            conversation.save(update_fields=["team"])
        queue_conversation(
            conversation, team=conversation.team, intent_id=intent_id, language=language, now=now
        )
        named_advisor = conversation.customer.advisor_id
        decisions = assign_next(
            conversation.brand_id, now=now, conversation_id=conversation.pk, actor=actor_of
        )
        if decisions:
            [decision] = decisions
            if decision.reason != Reason.ADVISOR:
                return Routing.TEAM_MEMBER
            if decision.assignee_id == named_advisor:
                return Routing.ADVISOR
            return Routing.LAST_AGENT
        if team_changed:
            conversation_changed(conversation, actor=actor_of, status_changed=False)
    return Routing.QUEUE if team is None else Routing.TEAM


def agent_named(brand: Brand, who: str) -> Membership | None:
    """The active agent of ``brand`` whose e-mail or username is ``who`` (a call provider's)."""
    if not who:
        return None
    memberships = Membership.objects.select_related("user").filter(brand=brand, is_active=True)
    agent = memberships.filter(user__email__iexact=who).first()
    agent = agent or memberships.filter(user__username=who).first()
    if agent is None:
        logger.info("call event names agent %r, unknown in brand %s", who, brand.pk)
    return agent


def give_to_answering_agent(conversation: Conversation, agent: Membership) -> None:
    """The agent who picked up a call handles its conversation, unless someone already does."""
    if conversation.status == Status.RESOLVED:
        return
    fresh = Conversation.objects.select_related("customer").get(pk=conversation.pk)
    if fresh.assignee_id is None:
        assign_conversation(agent, fresh, agent, reason=Reason.ANSWERED)
