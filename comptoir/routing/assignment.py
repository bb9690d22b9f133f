"""Who handles a conversation: an agent's assignment, a handoff's routing, a call's answerer.

Every rule that gives a conversation to someone lives here, so that the
console, the API, the assistant and the phone channel give work out the same
way. Availability (``Membership.is_available``) is kept by ``routing.presence``.
"""

import logging
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from comptoir.conversations.models import Conversation, Status
from comptoir.conversations.state import (
    OPEN_STATUSES,
    ConversationStateError,
    conversation_changed,
    lock_conversation,
)
from comptoir.events.actors import BOT, SYSTEM, Actor
from comptoir.tenancy.models import Brand, Membership, Team

if TYPE_CHECKING:
    from comptoir.assistant.models import Intent

logger = logging.getLogger(__name__)


def assign_conversation(
    actor: Membership | None, conversation: Conversation, assignee: Membership | None
) -> Conversation:
    """Give the conversation to ``assignee`` (None: back to the unassigned queue).

    ``actor``: the agent who assigned it (None: Comptoir's own rule).
    """
    if assignee is not None and (
        assignee.brand_id != conversation.brand_id or not assignee.is_active
    ):
        raise ConversationStateError("assignee is not an active agent of this brand")
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        if conversation.assignee_id == (assignee.pk if assignee else None):
            return conversation
        conversation.assignee = assignee
        conversation.save(update_fields=["assignee"])
        conversation_changed(
            conversation,
            actor=Actor.agent_or(actor, SYSTEM),
            status_changed=False,
            notify_agent_id=assignee.pk if assignee else None,
        )
    return conversation


class Routing(StrEnum):
    """Where ``route_to_person`` sent a conversation."""

    ADVISOR = "advisor"
    TEAM = "team"
    # The team's least busy available member (``Team.auto_assign``).
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
    actor: Membership | None, conversation: Conversation, team: Team | None = None
) -> Routing:
    """Send a conversation a person must take over (the assistant's handoff) to someone.

    The customer's own advisor first, when they are available (active, console
    open and not marked away, ``Membership.is_available``): customers want one
    interlocutor who knows them, but not to wait for one who is away. Otherwise
    the team that handles what they asked about: a team with ``auto_assign``
    gives it at once to its least busy available member (``_least_busy_member``),
    any other team, or one with nobody available, lets it wait in its queue ("My
    teams" in the console); else the brand's unassigned queue. A conversation an
    agent already holds stays with them. ``actor``: None for the assistant's handoff.
    """
    if team is not None and team.brand_id != conversation.brand_id:
        raise ConversationStateError("team belongs to another brand")
    with transaction.atomic():
        conversation = lock_conversation(conversation)
        if conversation.assignee_id is not None:
            return Routing.ALREADY_ASSIGNED
        advisor = conversation.customer.advisor
        if advisor is not None and not advisor.is_available():
            advisor = None
        member = None
        if advisor is None and team is not None and team.auto_assign:
            member = _least_busy_member(team, conversation.brand_id)
        assignee = advisor or member
        if assignee is None and (team is None or conversation.team_id == team.pk):
            return Routing.QUEUE if team is None else Routing.TEAM
        if assignee is not None:
            conversation.assignee = assignee
        if team is not None:
            conversation.team = team
        conversation.save(update_fields=["assignee", "team"])
        conversation_changed(
            conversation,
            actor=Actor.agent_or(actor, BOT),
            status_changed=False,
            notify_agent_id=assignee.pk if assignee is not None else None,
        )
    if advisor is not None:
        return Routing.ADVISOR
    return Routing.TEAM_MEMBER if member is not None else Routing.TEAM


def _least_busy_member(team: Team, brand_id: int) -> Membership | None:
    """The team's available member holding the fewest open conversations of the brand.

    Open means not resolved (``OPEN_STATUSES``, as the console's *Mine* tab counts);
    another brand's conversations never count. Ties go to the member whose latest
    conversation of the brand is the oldest (none at all first): with no assignment
    time stored, the highest id of the conversations assigned to them (resolved ones
    too) stands for "assigned most recently", so that members who close their
    conversations quickly still take turns instead of the same one getting every tie;
    then the lowest membership id. One query for the members and their loads;
    availability is ``Membership.is_available``.
    """
    held = Q(assigned_conversations__brand_id=brand_id)
    members = (
        team.members.filter(brand_id=brand_id)
        .select_related("user")
        .annotate(
            load=Count(
                "assigned_conversations",
                filter=held & Q(assigned_conversations__status__in=OPEN_STATUSES),
            ),
            latest=Max("assigned_conversations__id", filter=held),
        )
        .order_by("load", F("latest").asc(nulls_first=True), "pk")
    )
    now = timezone.now()
    return next((member for member in members if member.is_available(now)), None)


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
        assign_conversation(agent, fresh, agent)
