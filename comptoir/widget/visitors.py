"""What a chat visitor may see and claim: their own customer record, nothing else.

The visitor token names a brand and a visitor id; the visitor's customer is the
one holding the ``chat_visitor`` identity with that id, and everything a widget
request reads is scoped to that customer. These are the widget's
permission-checked fetchers, as ``conversations.access`` is for agents.
"""

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Max
from django.http import Http404, HttpRequest

from comptoir.conversations.inbound import IdentityClaim
from comptoir.conversations.models import Attachment, Channel, Conversation, Message
from comptoir.conversations.payloads import message_customer_payload
from comptoir.conversations.state import OPEN_STATUSES
from comptoir.customers.models import Customer, Identity, IdentityKind
from comptoir.events.models import Event
from comptoir.tenancy.models import Brand
from comptoir.widget.tokens import Visitor, VisitorTokenError, read_visitor_token

HISTORY_LIMIT = 200


def bearer_token(request: HttpRequest) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def authenticate_visitor(token: str | None) -> tuple[Visitor, Brand]:
    """The visitor behind ``token`` and their brand; VisitorTokenError if there is none."""
    visitor = read_visitor_token(token)
    brand = Brand.objects.filter(pk=visitor.brand_id).first()
    if brand is None:
        raise VisitorTokenError("invalid visitor token", "token_invalid")
    return visitor, brand


@dataclass(frozen=True)
class KnownVisitor:
    """A visitor with their brand, their customer (None before they write) and its e-mail."""

    visitor: Visitor
    brand: Brand
    customer: Customer | None
    email: str | None


# What the widget's message endpoint reads of the brand and of the visitor's customer
# (``Model.from_db`` builds them in model order; other fields stay deferred).
# tests/test_ingest_sql_columns.py checks that they are columns of the models.
BRAND_COLUMNS = ("id", "name", "slug", "default_language", "default_region")
CUSTOMER_COLUMNS = ("id", "brand_id", "display_name", "language")
_CUSTOMER_START = len(BRAND_COLUMNS)
_EMAIL = _CUSTOMER_START + len(CUSTOMER_COLUMNS)

_KNOWN_VISITOR = f"""
SELECT {", ".join(f"b.{column}" for column in BRAND_COLUMNS)},
       {", ".join(f"c.{column}" for column in CUSTOMER_COLUMNS)},
       (SELECT e.value FROM customers_identity e
         WHERE e.customer_id = c.id AND e.kind = %s
         ORDER BY e.created_at DESC, e.id DESC LIMIT 1)
  FROM tenancy_brand b
  LEFT JOIN customers_identity i ON i.brand_id = b.id AND i.kind = %s AND i.value = %s
  LEFT JOIN customers_customer c ON c.id = i.customer_id
 WHERE b.id = %s
"""  # noqa: S608 (built from the column tuples above, never from input)


def authenticate_visitor_and_customer(token: str | None) -> KnownVisitor:
    """``authenticate_visitor``, ``visitor_customer`` and ``customer_email`` in one query.

    For the widget's message endpoint, the hottest request there is. Written as
    SQL: through the ORM the same query cost about 1.5 ms of Python, ten times
    the statement itself (``bench/http_ingest.py``).
    """
    visitor = read_visitor_token(token)
    with connection.cursor() as cursor:
        cursor.execute(
            _KNOWN_VISITOR,
            [IdentityKind.EMAIL, IdentityKind.CHAT_VISITOR, visitor.visitor_id, visitor.brand_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise VisitorTokenError("invalid visitor token", "token_invalid")
    brand = Brand.from_db(connection.alias, BRAND_COLUMNS, row[:_CUSTOMER_START])
    customer = None
    if row[_CUSTOMER_START] is not None:
        customer = Customer.from_db(connection.alias, CUSTOMER_COLUMNS, row[_CUSTOMER_START:_EMAIL])
    return KnownVisitor(visitor, brand, customer, row[_EMAIL])


def visitor_customer(visitor: Visitor) -> Customer | None:
    """The customer this visitor became by writing or identifying, if any yet."""
    identity = (
        Identity.objects.select_related("customer")
        .filter(brand_id=visitor.brand_id, kind=IdentityKind.CHAT_VISITOR, value=visitor.visitor_id)
        .first()
    )
    return identity.customer if identity else None


def customer_email(customer: Customer) -> str | None:
    return (
        customer.identities.filter(kind=IdentityKind.EMAIL)
        .order_by("-created_at", "-id")
        .values_list("value", flat=True)
        .first()
    )


def customer_card(customer: Customer | None) -> dict[str, Any] | None:
    """What the visitor is told about themselves: the name and e-mail they gave."""
    if customer is None:
        return None
    return {"name": customer.display_name, "email": customer_email(customer)}


def visitor_claims(visitor: Visitor, customer: Customer | None) -> list[IdentityClaim]:
    """Identity claims for a widget message: the visitor id first (it decides), then the e-mail.

    The e-mail is one the visitor's own customer already holds, so it can only
    confirm the same customer, never pull the visitor into someone else's record.
    """
    return claims_of(visitor, customer_email(customer) if customer is not None else None)


def claims_of(visitor: Visitor, email: str | None) -> list[IdentityClaim]:
    """``visitor_claims`` when the customer's e-mail is already known (``KnownVisitor``)."""
    claims = [IdentityClaim(IdentityKind.CHAT_VISITOR, visitor.visitor_id, verified=True)]
    if email:
        claims.append(IdentityClaim(IdentityKind.EMAIL, email))
    return claims


def customer_history(customer: Customer | None) -> list[dict[str, Any]]:
    """The customer's last web-chat messages across all their conversations, oldest first.

    Internal notes and other channels are excluded in the query and again by
    the customer payload (see ``message_customer_payload`` for why).
    """
    if customer is None:
        return []
    messages = list(
        Message.objects.filter(
            brand_id=customer.brand_id,
            conversation__customer=customer,
            channel=Channel.WEBCHAT,
            is_internal_note=False,
        )
        .select_related("conversation__customer", "author__user")
        .prefetch_related("attachments")
        .order_by("-created_at", "-id")[:HISTORY_LIMIT]
    )
    messages.reverse()
    payloads = (message_customer_payload(m, list(m.attachments.all())) for m in messages)
    return [p for p in payloads if p is not None]


def open_conversation_ids(customer: Customer, limit: int = 5) -> list[int]:
    """The customer's open conversations nobody has taken yet: those that may wait in a line."""
    return list(
        Conversation.objects.filter(
            customer=customer, assignee__isnull=True, status__in=OPEN_STATUSES
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def last_customer_event_id(customer: Customer | None) -> int:
    """Where the widget socket resumes: the newest event this customer may see.

    Read before the history so that nothing falls between the two; anything
    both in the history and replayed is deduplicated by message id client-side.
    """
    if customer is None:
        return 0
    newest = Event.objects.filter(customer=customer, customer_payload__isnull=False).aggregate(
        newest=Max("id")
    )["newest"]
    return newest or 0


def visitor_attachment(visitor: Visitor, attachment_id: int) -> Attachment:
    """An attachment of the visitor's own conversations, never of an internal note; else 404."""
    customer = visitor_customer(visitor)
    if customer is None:
        raise Http404("No such attachment.")
    try:
        return Attachment.objects.get(
            pk=attachment_id,
            brand_id=visitor.brand_id,
            message__conversation__customer=customer,
            message__channel=Channel.WEBCHAT,
            message__is_internal_note=False,
        )
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such attachment.") from None
