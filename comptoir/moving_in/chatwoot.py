"""Chatwoot's documented export formats, read into ``records``.

A directory (or the path of ``conversations.json`` in it) holding:

- ``contacts.csv``, the contacts export of Chatwoot's console (columns ``id``,
  ``name``, ``email``, ``phone_number``, ``identifier``; others ignored), or
  ``contacts.json``, the Contacts API's answer (``{"payload": [...]}``);
- ``conversations.json``: the Conversations API's answer
  (``{"data": {"meta": ..., "payload": [...]}}``, several pages as one object per
  line, or a list): ``id``, ``status`` (``open``, ``pending``, ``snoozed``,
  ``resolved``), ``meta.sender`` (the contact), ``meta.assignee``, ``meta.channel``
  or ``channel`` (``Channel::WebWidget``, ``Channel::Email``, ``Channel::Whatsapp``…),
  ``labels``, ``created_at`` (Unix time), and ``messages`` (the Messages API's
  objects: ``id``, ``content``, ``message_type`` 0 incoming, 1 outgoing,
  2 activity, 3 template, ``private``, ``created_at``, ``sender`` with its
  ``type`` contact, user or agent_bot, ``attachments``); messages may instead be
  in ``messages/<conversation id>.json`` (``{"payload": [...]}``).

Activity messages ("Conversation was resolved by …") are Chatwoot's own log,
not messages: they are left out. A contact without e-mail, phone or
identifier (a web widget visitor) is recognised by a visitor identity made
from its Chatwoot id, so a second run finds it again.
"""

import csv
import uuid
from pathlib import Path
from typing import Any

from comptoir.conversations.inbound import IdentityClaim
from comptoir.conversations.models import AuthorKind, Channel, Status
from comptoir.customers.models import IdentityKind
from comptoir.moving_in.records import (
    BadRecord,
    Export,
    Person,
    Skip,
    Thread,
    ThreadMessage,
    parse_time,
    read_json_rows,
)

SOURCE = "chatwoot"

STATUSES = {
    "open": Status.OPEN,
    "pending": Status.PENDING,
    "snoozed": Status.PENDING,
    "resolved": Status.RESOLVED,
}
CHANNELS = {
    "Channel::WebWidget": Channel.WEBCHAT,
    "Channel::Email": Channel.EMAIL,
    "Channel::Whatsapp": Channel.WHATSAPP,
    "Channel::FacebookPage": Channel.MESSENGER,
    "Channel::Api": Channel.API,
}
MESSAGE_TYPES = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}
# A namespace of our own for the visitor ids of anonymous contacts.
VISITOR_NAMESPACE = uuid.UUID("6f1d3c2a-3b8e-5d6f-9a0b-63686174776f")


def read_export(path: Path) -> Export:
    folder = path if path.is_dir() else path.parent
    export = Export()
    if (folder / "contacts.csv").exists():
        with (folder / "contacts.csv").open(encoding="utf-8", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                _read(export, f"contacts.csv line {number}", lambda row=row: _contact(row, export))
    elif (folder / "contacts.json").exists():
        for row in read_json_rows(folder / "contacts.json", "payload", export.skipped):
            _read(export, f"contact {row.get('id')}", lambda row=row: _contact(row, export))
    conversations = folder / "conversations.json"
    if not conversations.exists():
        export.skipped.append(Skip(str(folder), "no conversations.json: nothing to import"))
        return export
    for row in read_json_rows(conversations, "payload", export.skipped):
        _read(
            export,
            f"conversation {row.get('id')}",
            lambda row=row: _thread(row, folder, export),
        )
    return export


def _read(export: Export, what: str, read) -> None:
    try:
        found = read()
    except (BadRecord, KeyError, TypeError, ValueError) as error:
        export.skipped.append(Skip(what, str(error) or type(error).__name__))
        return
    if isinstance(found, Thread):
        export.threads.append(found)


def _id(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
        raise BadRecord(f"no {what}")
    return str(value).strip()


def _contact(row: dict, export: Export) -> Person:
    """A contact of the CSV, the Contacts API or a conversation's ``meta.sender``."""
    contact_id = _id(row.get("id"), "contact id")
    claims = []
    if row.get("email"):
        claims.append(IdentityClaim(IdentityKind.EMAIL, str(row["email"])))
    if row.get("phone_number"):
        claims.append(IdentityClaim(IdentityKind.PHONE, str(row["phone_number"])))
    if row.get("identifier"):
        claims.append(IdentityClaim(IdentityKind.CUSTOMER_NUMBER, str(row["identifier"])))
    if not claims:
        visitor = uuid.uuid5(VISITOR_NAMESPACE, f"contact:{contact_id}")
        claims.append(IdentityClaim(IdentityKind.CHAT_VISITOR, visitor.hex))
    person = Person(f"contact:{contact_id}", str(row.get("name") or ""), claims)
    export.people.setdefault(person.external_id, person)
    return export.people[person.external_id]


def _agent(user: dict, export: Export) -> str:
    external_id = f"user:{_id(user.get('id'), 'user id')}"
    email = str(user.get("email") or "")
    person = export.people.setdefault(
        external_id, Person(external_id, str(user.get("name") or ""), [], True, email)
    )
    person.email = person.email or email
    return external_id


def _thread(row: dict, folder: Path, export: Export) -> Thread:
    external_id = _id(row.get("id"), "id")
    meta = row.get("meta") or {}
    sender = meta.get("sender")
    if not isinstance(sender, dict):
        raise BadRecord("no meta.sender (the contact)")
    requester = _contact(sender, export).external_id
    status = STATUSES.get(row.get("status") or "")
    if status is None:
        raise BadRecord(f"unknown status {row.get('status')!r}")
    channel = CHANNELS.get(meta.get("channel") or row.get("channel") or "", Channel.API)
    assignee = meta.get("assignee")
    rows = row.get("messages")
    path = folder / "messages" / f"{external_id}.json"
    if path.exists():  # the Messages API's full list beats the few a conversation embeds
        rows = read_json_rows(path, "payload", export.skipped)
    messages = []
    for message in rows or []:
        if not isinstance(message, dict):
            continue
        try:
            read = _message(message, channel, requester, export)
        except (BadRecord, TypeError, ValueError) as error:
            export.skipped.append(Skip(f"conversation {external_id}", str(error)))
            continue
        if read is not None:
            messages.append(read)
    extra = row.get("additional_attributes") or {}
    return Thread(
        external_id=external_id,
        requester_external_id=requester,
        subject=str(extra.get("mail_subject") or ""),
        status=status,
        channel=channel,
        created_at=parse_time(row.get("created_at")),
        updated_at=parse_time(row["last_activity_at"]) if row.get("last_activity_at") else None,
        messages=messages,
        assignee_external_id=_agent(assignee, export) if isinstance(assignee, dict) else "",
        tags=[str(label) for label in row.get("labels") or []],
    )


def _message(message: dict, channel: str, requester: str, export: Export) -> ThreadMessage | None:
    kind = message.get("message_type")
    kind = MESSAGE_TYPES.get(kind, kind) if isinstance(kind, int) else kind
    if kind == "activity":
        return None
    sender = message.get("sender") or {}
    sender_type = str(sender.get("type") or message.get("sender_type") or "").lower()
    author_id = ""
    if kind == "incoming":
        author_kind, author_id = AuthorKind.CUSTOMER, requester
    elif sender_type in ("agent_bot", "agentbot") or kind == "template":
        author_kind = AuthorKind.BOT
    elif kind == "outgoing":
        author_kind = AuthorKind.AGENT
        author_id = _agent(sender, export) if sender.get("id") else ""
    else:
        raise BadRecord(f"message {message.get('id')}: unknown message_type {kind!r}")
    text = str(message.get("content") or "")
    files = [
        f"📎 {a.get('file_type', 'file')} {a.get('data_url', '')}".rstrip()
        for a in message.get("attachments") or []
        if isinstance(a, dict)
    ]
    if files:
        text = "\n".join([text, *files]) if text else "\n".join(files)
    return ThreadMessage(
        external_id=f"{SOURCE}:{_id(message.get('id'), 'message id')}",
        author_kind=author_kind,
        text=text,
        created_at=parse_time(message.get("created_at")),
        channel=channel,
        is_note=bool(message.get("private")),
        author_external_id=author_id,
    )
