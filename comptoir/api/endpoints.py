"""Endpoints of the integrator API: parse, fetch through the access checks, call an action.

``request.auth`` is the membership of the API token (see ``comptoir.api.auth``).
Lists are filtered on its brand; single objects come from the ``access_*``
fetchers, which answer 404 for another brand's objects. State changes go
through the actions only (``comptoir.conversations.actions``,
``comptoir.routing`` for assignment and the agent's own availability).
"""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from comptoir.api.schemas import (
    MAX_BIGINT,
    AssignIn,
    AvailabilityIn,
    AvailabilityOut,
    ConversationOut,
    CustomerOut,
    ErrorOut,
    MessageIn,
    MessageOut,
    ObjectId,
    StatusValue,
    TagsIn,
    TeamOut,
    WaitOut,
)
from comptoir.conversations.access import access_conversation
from comptoir.conversations.actions import (
    add_note,
    mark_pending,
    reopen_conversation,
    resolve_conversation,
    send_reply,
)
from comptoir.conversations.models import Attachment, Conversation, Message
from comptoir.conversations.tags import TagError, set_conversation_tags, tag_key
from comptoir.customers.access import access_customer
from comptoir.customers.models import Customer, Identity
from comptoir.routing.assignment import assign_conversation
from comptoir.routing.estimates import estimate_wait
from comptoir.routing.presence import set_availability
from comptoir.tenancy.access import access_colleague
from comptoir.tenancy.actions import MembershipActionError
from comptoir.tenancy.models import Membership, Team

customers_router = Router(tags=["customers"])
conversations_router = Router(tags=["conversations"])

# Documented answers besides success; every operation may also answer 401.
REFUSED = {401: ErrorOut}
NOT_FOUND = {401: ErrorOut, 404: ErrorOut}
STATE_ERRORS = {401: ErrorOut, 404: ErrorOut, 409: ErrorOut}


# Far beyond any brand's row count, and small enough for every database's OFFSET.
MAX_OFFSET = 1_000_000_000


class PageInput(Schema):
    limit: int = Field(50, ge=1, le=200, description="Page size (at most 200).")
    offset: int = Field(
        0, ge=0, le=MAX_OFFSET, description=f"How many rows to skip (at most {MAX_OFFSET:,})."
    )


class Pagination(LimitOffsetPagination):
    """``limit`` (1-200, default 50) and ``offset``; the page comes with the total ``count``."""

    Input = PageInput


def _membership(request: HttpRequest) -> Membership:
    return request.auth  # type: ignore[attr-defined]


def _conversations(membership: Membership) -> QuerySet[Conversation]:
    """The brand's conversations, most recently active first, with what the schema reads."""
    return (
        Conversation.objects.filter(brand_id=membership.brand_id)
        .select_related("customer", "assignee__user")
        .prefetch_related("tags")
        .order_by("-last_message_at", "-pk")
    )


def _customers(membership: Membership) -> QuerySet[Customer]:
    return (
        Customer.objects.filter(brand_id=membership.brand_id)
        .prefetch_related(Prefetch("identities", Identity.objects.order_by("pk")))
        .order_by("-created_at", "-pk")
    )


# Teams


@conversations_router.get("/teams", response={200: list[TeamOut], **REFUSED}, tags=["teams"])
def list_teams(request: HttpRequest):
    """The brand's teams (an intent's ``team_id`` names one; conversations wait in its queue)."""
    membership = _membership(request)
    return Team.objects.filter(brand_id=membership.brand_id).prefetch_related("members")


# The token's own agent


@conversations_router.get(
    "/me/availability", response={200: AvailabilityOut, **REFUSED}, tags=["agents"]
)
def get_availability(request: HttpRequest) -> Membership:
    """Whether the token's agent is available or away, and whether their console is open."""
    return _membership(request)


@conversations_router.put(
    "/me/availability", response={200: AvailabilityOut, 400: ErrorOut, **REFUSED}, tags=["agents"]
)
def put_availability(request: HttpRequest, body: AvailabilityIn):
    """Set the token's agent available or away (only one's own: there is no other agent's)."""
    membership = _membership(request)
    try:
        return set_availability(membership, body.availability, actor=membership)
    except MembershipActionError as exc:
        return Status(400, {"detail": exc.reason})


# Customers


@customers_router.get("/customers", response={200: list[CustomerOut], **REFUSED})
@paginate(Pagination)
def list_customers(
    request: HttpRequest,
    q: str | None = Query(
        None, max_length=320, description="Part of the display name or of an identity value."
    ),
) -> QuerySet[Customer]:
    """The brand's customers, newest first."""
    customers = _customers(_membership(request))
    if q and q.strip():
        term = q.strip()
        customers = customers.filter(
            Q(display_name__icontains=term)
            | Exists(Identity.objects.filter(customer=OuterRef("pk"), value__icontains=term))
        )
    return customers


@customers_router.get("/customers/{int:customer_id}", response={200: CustomerOut, **NOT_FOUND})
def get_customer(request: HttpRequest, customer_id: ObjectId) -> Customer:
    """One customer with every identity by which the channels recognise them."""
    customer = access_customer(_membership(request), customer_id)
    return _customers(_membership(request)).get(pk=customer.pk)


@customers_router.get(
    "/customers/{int:customer_id}/conversations",
    response={200: list[ConversationOut], **NOT_FOUND},
)
@paginate(Pagination)
def list_customer_conversations(
    request: HttpRequest, customer_id: ObjectId
) -> QuerySet[Conversation]:
    """The customer's conversations, most recently active first."""
    customer = access_customer(_membership(request), customer_id)
    return _conversations(_membership(request)).filter(customer=customer)


# Conversations


@conversations_router.get("/conversations", response={200: list[ConversationOut], **REFUSED})
@paginate(Pagination)
def list_conversations(
    request: HttpRequest,
    status: StatusValue | None = None,
    assignee: str | None = Query(
        None,
        # At most 18 digits: always a bigint, so the filter can never overflow.
        pattern=r"^(me|none|\d{1,18})$",
        description="'me' (the token's agent), 'none' (unassigned) or a membership id.",
    ),
    customer: int | None = Query(
        None, ge=1, le=MAX_BIGINT, description="Only this customer's conversations."
    ),
    tag: str | None = Query(
        None, max_length=50, description="Only conversations carrying this tag (any case)."
    ),
) -> QuerySet[Conversation]:
    """The brand's conversations, most recently active first (``last_message_at``)."""
    membership = _membership(request)
    conversations = _conversations(membership)
    if status is not None:
        conversations = conversations.filter(status=status)
    if assignee == "me":
        conversations = conversations.filter(assignee_id=membership.pk)
    elif assignee == "none":
        conversations = conversations.filter(assignee__isnull=True)
    elif assignee is not None:
        conversations = conversations.filter(assignee_id=int(assignee))
    if customer is not None:
        conversations = conversations.filter(customer_id=customer)
    if tag:
        conversations = conversations.filter(
            tags__brand_id=membership.brand_id, tags__key=tag_key(tag)
        )
    return conversations


@conversations_router.get(
    "/conversations/{int:conversation_id}", response={200: ConversationOut, **NOT_FOUND}
)
def get_conversation(request: HttpRequest, conversation_id: ObjectId) -> Conversation:
    return access_conversation(_membership(request), conversation_id)


@conversations_router.get(
    "/conversations/{int:conversation_id}/wait", response={200: WaitOut, **NOT_FOUND}
)
def get_conversation_wait(request: HttpRequest, conversation_id: ObjectId) -> dict:
    """Its place in the router's line and the expected wait in seconds (what the customer sees)."""
    conversation = access_conversation(_membership(request), conversation_id)
    estimate = estimate_wait(conversation.pk)
    if estimate is None:
        return {"waiting": False}
    return {
        "waiting": True,
        "position": estimate.position,
        "in_line": estimate.waiting,
        "estimated_wait_seconds": estimate.seconds,
        "agents_available": estimate.agents_available,
    }


@conversations_router.get(
    "/conversations/{int:conversation_id}/messages",
    response={200: list[MessageOut], **NOT_FOUND},
)
@paginate(Pagination)
def list_messages(request: HttpRequest, conversation_id: ObjectId) -> QuerySet[Message]:
    """Every message of the conversation, oldest first, internal notes included."""
    conversation = access_conversation(_membership(request), conversation_id)
    return (
        Message.objects.filter(conversation=conversation, brand_id=conversation.brand_id)
        .select_related("conversation__customer", "author__user")
        .prefetch_related(Prefetch("attachments", Attachment.objects.order_by("pk")))
        .order_by("created_at", "pk")
    )


@conversations_router.post(
    "/conversations/{int:conversation_id}/messages",
    response={201: MessageOut, **STATE_ERRORS},
)
def post_message(request: HttpRequest, conversation_id: ObjectId, body: MessageIn) -> Status:
    """A reply to the customer, or an internal note when ``internal_note`` is true.

    A reply to a resolved conversation is refused (409): reopen it first.
    """
    membership = _membership(request)
    conversation = access_conversation(membership, conversation_id)
    if body.internal_note:
        message = add_note(membership, conversation, body.text)
    else:
        message = send_reply(membership, conversation, body.text)
    return Status(201, message)


@conversations_router.post(
    "/conversations/{int:conversation_id}/assign",
    response={200: ConversationOut, **STATE_ERRORS},
)
def assign(request: HttpRequest, conversation_id: ObjectId, body: AssignIn) -> Conversation:
    """Give the conversation to an agent of the brand, or back to the queue with null."""
    membership = _membership(request)
    conversation = access_conversation(membership, conversation_id)
    assignee = None
    if body.assignee_id is not None:
        assignee = access_colleague(membership, body.assignee_id)
    return assign_conversation(membership, conversation, assignee)


@conversations_router.post(
    "/conversations/{int:conversation_id}/resolve",
    response={200: ConversationOut, **STATE_ERRORS},
)
def resolve(request: HttpRequest, conversation_id: ObjectId) -> Conversation:
    """Mark the conversation resolved; 409 when it already is."""
    membership = _membership(request)
    return resolve_conversation(membership, access_conversation(membership, conversation_id))


@conversations_router.post(
    "/conversations/{int:conversation_id}/reopen",
    response={200: ConversationOut, **STATE_ERRORS},
)
def reopen(request: HttpRequest, conversation_id: ObjectId) -> Conversation:
    """Reopen a resolved conversation; 409 when it is not resolved."""
    membership = _membership(request)
    return reopen_conversation(membership, access_conversation(membership, conversation_id))


@conversations_router.post(
    "/conversations/{int:conversation_id}/pending",
    response={200: ConversationOut, **STATE_ERRORS},
)
def pending(request: HttpRequest, conversation_id: ObjectId) -> Conversation:
    """Waiting on the customer: SLA clocks pause until they write; 409 unless open."""
    membership = _membership(request)
    return mark_pending(membership, access_conversation(membership, conversation_id))


@conversations_router.put(
    "/conversations/{int:conversation_id}/tags",
    response={200: ConversationOut, 400: ErrorOut, **NOT_FOUND},
)
def put_tags(request: HttpRequest, conversation_id: ObjectId, body: TagsIn) -> Status:
    """Set the conversation's tags: those missing are added, the others taken off.

    Each change appends ``conversation.tagged`` or ``conversation.untagged``.
    """
    membership = _membership(request)
    conversation = access_conversation(membership, conversation_id)
    try:
        set_conversation_tags(membership, conversation, body.tags)
    except TagError as exc:
        return Status(400, {"detail": str(exc)})
    return Status(200, access_conversation(membership, conversation_id))
