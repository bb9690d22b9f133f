"""Zendesk's documented export formats, read into ``records``.

A directory (or the path of ``tickets.json`` in it) holding:

- ``users.json``: users as the Incremental User Export returns them
  (``{"users": [...], "end_of_stream": ...}``, several pages as one object per
  line, or a list): ``id``, ``name``, ``email``, ``phone``, ``role`` (``end-user``,
  ``agent``, ``admin``), ``external_id``, ``verified``;
- ``tickets.json``: tickets as the Incremental Ticket Export or the full JSON
  export returns them (one object per line there): ``id``, ``subject``,
  ``description``, ``status`` (``new``, ``open``, ``pending``, ``hold``, ``solved``,
  ``closed``), ``requester_id``, ``assignee_id``, ``created_at``, ``updated_at``,
  ``tags``, ``via.channel``, and ``comments`` (the Ticket Comments API's objects:
  ``id``, ``type``, ``author_id``, ``body``/``plain_body``, ``public``,
  ``created_at``, ``attachments`` with ``file_name``, ``content_type``, ``size``,
  ``content_url``; ``via.channel``); comments may instead be in
  ``comments/<ticket id>.json`` (``{"comments": [...]}``, the API's answer).

Attachments become the message's attachments: their name, type and size
always; their file only when the export holds it, at
``attachments/<attachment id>/<file_name>``. A ``content_url`` is never
fetched (it needs the Zendesk account's credentials, and an import must not
reach out to addresses an export names) and is not kept.
"""

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
    ThreadAttachment,
    ThreadMessage,
    parse_time,
    read_json_rows,
)

SOURCE = "zendesk"

STATUSES = {
    "new": Status.OPEN,
    "open": Status.OPEN,
    "pending": Status.PENDING,
    "hold": Status.PENDING,
    "solved": Status.RESOLVED,
    "closed": Status.RESOLVED,
}
CHANNELS = {
    "email": Channel.EMAIL,
    "web": Channel.EMAIL,  # the web form: an asynchronous request, answered by mail
    "chat": Channel.WEBCHAT,
    "native_messaging": Channel.WEBCHAT,
    "chat_transcript": Channel.WEBCHAT,
    "voice": Channel.PHONE,
    "phone": Channel.PHONE,
    "whatsapp": Channel.WHATSAPP,
    "facebook": Channel.MESSENGER,
}
AGENT_ROLES = {"agent", "admin"}


def read_export(path: Path) -> Export:
    folder = path if path.is_dir() else path.parent
    export = Export()
    users = folder / "users.json"
    if users.exists():
        for row in read_json_rows(users, "users", export.skipped):
            _read(export, f"user {row.get('id')}", lambda row=row: _person(row, export))
    tickets = folder / "tickets.json"
    if not tickets.exists():
        export.skipped.append(Skip(str(folder), "no tickets.json: no conversation to import"))
        return export
    for row in read_json_rows(tickets, "tickets", export.skipped):
        _read(
            export, f"ticket {row.get('id')}", lambda row=row: _thread(row, folder, export.skipped)
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
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value) == "":
        raise BadRecord(f"no {what}")
    return str(value)


def _person(row: dict, export: Export) -> Person:
    external_id = _id(row.get("id"), "id")
    email = str(row.get("email") or "")
    claims = []
    if email:
        claims.append(IdentityClaim(IdentityKind.EMAIL, email, verified=bool(row.get("verified"))))
    if row.get("phone"):
        claims.append(IdentityClaim(IdentityKind.PHONE, str(row["phone"])))
    if row.get("external_id"):
        claims.append(IdentityClaim(IdentityKind.CUSTOMER_NUMBER, str(row["external_id"])))
    person = Person(
        external_id=external_id,
        name=str(row.get("name") or ""),
        claims=claims,
        is_agent=row.get("role") in AGENT_ROLES,
        email=email,
    )
    export.people[external_id] = person
    return person


def _thread(row: dict, folder: Path, skipped: list[Skip]) -> Thread:
    external_id = _id(row.get("id"), "id")
    requester = _id(row.get("requester_id"), "requester_id")
    status = STATUSES.get(row.get("status") or "")
    if status is None:
        raise BadRecord(f"unknown status {row.get('status')!r}")
    channel = CHANNELS.get((row.get("via") or {}).get("channel", ""), Channel.API)
    comments = row.get("comments")
    if comments is None and (folder / "comments" / f"{external_id}.json").exists():
        comments = read_json_rows(folder / "comments" / f"{external_id}.json", "comments", [])
    created_at = parse_time(row.get("created_at"))
    messages = []
    for comment in comments or []:
        if not isinstance(comment, dict):
            continue
        try:
            messages.append(_message(comment, channel, requester, folder))
        except (BadRecord, TypeError, ValueError) as error:
            skipped.append(Skip(f"ticket {external_id}", f"a comment is left out: {error}"))
    if not messages and row.get("description"):
        # No comments exported: the description is the requester's first message.
        messages = [
            ThreadMessage(
                external_id=f"{SOURCE}:ticket:{external_id}",
                author_kind=AuthorKind.CUSTOMER,
                text=str(row["description"]),
                created_at=created_at,
                channel=channel,
                author_external_id=requester,
            )
        ]
    return Thread(
        external_id=external_id,
        requester_external_id=requester,
        subject=str(row.get("subject") or ""),
        status=status,
        channel=channel,
        created_at=created_at,
        updated_at=parse_time(row["updated_at"]) if row.get("updated_at") else None,
        messages=messages,
        assignee_external_id=str(row.get("assignee_id") or ""),
        tags=[str(tag) for tag in row.get("tags") or []],
    )


def _message(comment: dict, ticket_channel: str, requester: str, folder: Path) -> ThreadMessage:
    author = str(comment.get("author_id") or "")
    text = str(comment.get("plain_body") or comment.get("body") or "")
    attachments = [
        _attachment(a, folder) for a in comment.get("attachments") or [] if isinstance(a, dict)
    ]
    channel = CHANNELS.get((comment.get("via") or {}).get("channel", ""), ticket_channel)
    if comment.get("type") == "VoiceComment":
        channel = Channel.PHONE
    return ThreadMessage(
        external_id=f"{SOURCE}:{_id(comment.get('id'), 'comment id')}",
        # Decided against the people read: the requester writes as the customer.
        author_kind=AuthorKind.CUSTOMER if author == requester else AuthorKind.AGENT,
        text=text,
        created_at=parse_time(comment.get("created_at")),
        channel=channel,
        is_note=comment.get("public") is False,
        author_external_id=author,
        attachments=attachments,
    )


def _attachment(row: dict, folder: Path) -> ThreadAttachment:
    """Its metadata, and its file when the export holds it (never its URL: never fetched)."""
    # Only the last part of the name: a name cannot point outside the export.
    file_name = Path(str(row.get("file_name") or "").replace("\\", "/")).name or "file"
    attachment_id = str(row.get("id", ""))
    path = folder / "attachments" / attachment_id / file_name
    has_file = (
        attachment_id.isalnum()
        and path.is_file()
        and path.resolve().is_relative_to(folder.resolve())
    )
    size = row.get("size")
    return ThreadAttachment(
        file_name=file_name,
        content_type=str(row.get("content_type") or "application/octet-stream"),
        size=path.stat().st_size if has_file else (size if type(size) is int and size > 0 else 0),
        path=path if has_file else None,
    )
