"""The four statements every inbound message runs, written as SQL.

Ingest runs once per message on every channel. Through the ORM each statement
cost about 1 ms of Python on a 2-core machine, five times the statement itself,
which capped ingest near 200 messages/s (see BENCHMARKS.md). These statements
are plain, portable SQL (PostgreSQL and SQLite ≥ 3.35) and return what the
actions need to build their model instances without reading them back.
Everything that happens once per customer or per conversation (creating them)
stays on the ORM in ``ingest.py`` and ``customers/resolution.py``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from comptoir.conversations.models import Conversation, Message, Status
from comptoir.customers.lookup import IdentityKey, IdentityMatch
from comptoir.customers.models import Customer


@dataclass(frozen=True)
class OpenThread:
    """A customer's open conversation (None: none) and its open contact on the channel."""

    conversation: Conversation | None
    open_contact_id: int | None


# The columns each statement reads or writes, from which its SQL is built.
# tests/test_ingest_sql_columns.py compares them with the models: a column added
# to a model must be added here (or the test fails), not found missing by an
# inbound message at run time.
#
# The lookup reads these columns of the customer and of their open conversation
# and builds the instances with ``Model.from_db``, which takes them in the
# model's field order; the other fields stay deferred.
CUSTOMER_LOOKUP_COLUMNS = ("id", "brand_id", "display_name", "language")
CONVERSATION_LOOKUP_COLUMNS = ("id", "brand_id", "customer_id", "status", "assignee_id", "channel")
# Every column of a new message and of a new event but the id, which the database gives.
MESSAGE_INSERT_COLUMNS = (
    "brand_id",
    "conversation_id",
    "contact_id",
    "direction",
    "author_kind",
    "author_id",
    "text",
    "is_internal_note",
    "channel",
    "external_id",
    "created_at",
    "quick_replies",
)
# What a customer's message changes on their open conversation (see ``_TOUCH_CONVERSATION``).
CONVERSATION_TOUCH_COLUMNS = ("last_message_at", "status")

# Positions in a lookup row: (kind, value, customer…, conversation…, open contact id, verified).
_CUSTOMER_START = 2
_CONVERSATION_START = _CUSTOMER_START + len(CUSTOMER_LOOKUP_COLUMNS)
_OPEN_CONTACT = _CONVERSATION_START + len(CONVERSATION_LOOKUP_COLUMNS)
_VERIFIED = _OPEN_CONTACT + 1

_LOOKUP = f"""
SELECT i.kind, i.value, {", ".join(f"c.{column}" for column in CUSTOMER_LOOKUP_COLUMNS)},
       {", ".join(f"v.{column}" for column in CONVERSATION_LOOKUP_COLUMNS)},
       (SELECT k.id FROM conversations_contact k
         WHERE k.conversation_id = v.id AND k.channel = %s AND k.ended_at IS NULL
         ORDER BY k.started_at DESC LIMIT 1),
       i.verified
  FROM customers_identity i
  JOIN customers_customer c ON c.id = i.customer_id
  LEFT JOIN conversations_conversation v ON v.id = (
        SELECT v2.id FROM conversations_conversation v2
         WHERE v2.customer_id = i.customer_id AND v2.status IN (%s, %s)
         ORDER BY v2.last_message_at DESC LIMIT 1)
 WHERE i.brand_id = %s AND ({{claims}})
"""  # noqa: S608 (built from the column tuples above, never from input)


def find_customer_threads(
    brand_id: int, claims: list[IdentityKey], channel: str
) -> list[IdentityMatch]:
    """One query: the known identities among ``claims``, each with its customer's open thread.

    ``claims`` are normalised (kind, value) pairs. Which match decides the
    customer is ``customers.resolution``'s rule; this only finds them, with
    what ingest needs to thread the message (the customer's latest open
    conversation and its open contact on ``channel``) without another query.
    """
    if not claims:
        return []
    condition = " OR ".join(["(i.kind = %s AND i.value = %s)"] * len(claims))
    params: list[Any] = [channel, Status.OPEN, Status.PENDING, brand_id]
    for kind, value in claims:
        params += [kind, value]
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP.format(claims=condition), params)
        rows = cursor.fetchall()
    return [_match(row) for row in rows]


def _match(row: tuple) -> IdentityMatch:
    customer = Customer.from_db(
        connection.alias, CUSTOMER_LOOKUP_COLUMNS, row[_CUSTOMER_START:_CONVERSATION_START]
    )
    conversation = None
    if row[_CONVERSATION_START] is not None:
        conversation = Conversation.from_db(
            connection.alias,
            CONVERSATION_LOOKUP_COLUMNS,
            row[_CONVERSATION_START:_OPEN_CONTACT],
        )
        conversation.customer = customer
    return IdentityMatch(
        row[0], row[1], bool(row[_VERIFIED]), customer, OpenThread(conversation, row[_OPEN_CONTACT])
    )


def _insert(table: str, columns: tuple[str, ...]) -> str:
    placeholders = ", ".join(["%s"] * len(columns))
    columns_list = ", ".join(columns)
    return f"INSERT INTO {table} ({columns_list}) VALUES ({placeholders}) RETURNING id"  # noqa: S608


_INSERT_MESSAGE = _insert("conversations_message", MESSAGE_INSERT_COLUMNS)


def insert_customer_message(message: Message) -> None:
    """INSERT an inbound message built in memory and give it its id.

    A redelivery (same brand, channel and external id) raises IntegrityError.
    """
    row = {
        "brand_id": message.brand_id,
        "conversation_id": message.conversation_id,
        "contact_id": message.contact_id,
        "direction": message.direction,
        "author_kind": message.author_kind,
        "author_id": message.author_id,
        "text": message.text,
        "is_internal_note": message.is_internal_note,
        "channel": message.channel,
        "external_id": message.external_id,
        "created_at": connection.ops.adapt_datetimefield_value(message.created_at),
        "quick_replies": None,  # choices only come with Comptoir's own messages
    }
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_MESSAGE, [row[column] for column in MESSAGE_INSERT_COLUMNS])
        message.pk = cursor.fetchone()[0]
    message._state.adding = False
    message._state.db = connection.alias


_TOUCH_CONVERSATION = """
UPDATE conversations_conversation
   SET last_message_at = CASE WHEN last_message_at < %s THEN %s ELSE last_message_at END,
       status = CASE WHEN status = %s THEN %s ELSE status END
 WHERE id = %s AND status IN (%s, %s)
RETURNING last_message_at
"""


def touch_open_conversation(conversation: Conversation, at: datetime) -> bool:
    """A customer wrote: the conversation is active again (pending becomes open).

    Returns False when the conversation is no longer open (an agent resolved it
    since it was looked up): the caller must thread the message afresh.
    """
    at_value = connection.ops.adapt_datetimefield_value(at)
    with connection.cursor() as cursor:
        cursor.execute(
            _TOUCH_CONVERSATION,
            [
                at_value,
                at_value,
                Status.PENDING,
                Status.OPEN,
                conversation.pk,
                Status.OPEN,
                Status.PENDING,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return False
    # A message the channel dates earlier (a delayed delivery) never moves the inbox order back.
    conversation.last_message_at = _as_datetime(row[0])
    conversation.status = Status.OPEN
    return True


def _as_datetime(value: datetime | str) -> datetime:
    """PostgreSQL returns an aware datetime; SQLite a naive one or its text, both in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
