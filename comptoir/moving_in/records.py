"""What a source's export reads into, whatever the vendor: people, threads, messages, skips.

``zendesk`` and ``chatwoot`` turn their vendor's documented export formats into
these; ``importer`` stores them the same way for both.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from comptoir.conversations.inbound import IdentityClaim


@dataclass
class Person:
    """A customer (end user, contact) or an agent of the source."""

    external_id: str
    name: str
    claims: list[IdentityClaim]
    is_agent: bool = False
    email: str = ""


@dataclass(frozen=True)
class ThreadAttachment:
    """A file of a message as the export describes it; ``path`` when the export holds it."""

    file_name: str
    content_type: str
    size: int
    path: Path | None = None


@dataclass
class ThreadMessage:
    external_id: str
    author_kind: str  # customer, agent, bot
    text: str
    created_at: datetime
    channel: str
    is_note: bool = False
    author_external_id: str = ""  # a Person, to find the agent by e-mail
    attachments: list[ThreadAttachment] = field(default_factory=list)


@dataclass
class Thread:
    """A ticket (Zendesk) or a conversation (Chatwoot)."""

    external_id: str
    requester_external_id: str
    subject: str
    status: str  # open, pending, resolved
    channel: str
    created_at: datetime
    updated_at: datetime | None
    messages: list[ThreadMessage]
    assignee_external_id: str = ""
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Skip:
    what: str  # "user 12", "ticket 7", "tickets.json line 3"
    reason: str


@dataclass
class Export:
    people: dict[str, Person] = field(default_factory=dict)
    threads: list[Thread] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


class BadRecord(ValueError):
    """A row of the export that cannot be read: reported and skipped, never fatal."""


def parse_time(value: Any) -> datetime:
    """An ISO 8601 string (Zendesk, Chatwoot's newer fields) or a Unix time (Chatwoot)."""
    if isinstance(value, bool) or value in (None, ""):
        raise BadRecord(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadRecord(f"not a time: {str(value)[:40]!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def read_json_rows(path: Path, key: str, skipped: list[Skip]) -> list[dict]:
    """The rows under ``key`` of a JSON export file, however the vendor laid them out.

    A JSON object holding ``key`` (an API page: ``{"tickets": [...]}``; Chatwoot's
    ``{"payload": [...]}`` or ``{"data": {"payload": [...]}}``), a JSON list, or
    one JSON object per line (Zendesk's full JSON export). A line that is not
    JSON is skipped with its line number; so is a row that is not an object.
    """
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if document is None:
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                skipped.append(Skip(f"{path.name} line {number}", f"not JSON: {error.msg}"))
    elif isinstance(document, list):
        rows = document
    else:
        # One object on one line: an export of a single ticket (one JSON line) is a row.
        single = isinstance(document, dict) and "id" in document
        rows = _rows_in(document, key) or ([document] if single else [])
    good = [row for row in rows if isinstance(row, dict)]
    if len(good) < len(rows):
        skipped.append(Skip(path.name, f"{len(rows) - len(good)} rows are not objects"))
    return good


def _rows_in(document: Any, key: str) -> list:
    if not isinstance(document, dict):
        return []
    for candidate in (key, "payload"):
        if isinstance(document.get(candidate), list):
            return document[candidate]
    if isinstance(document.get("data"), dict):
        return _rows_in(document["data"], key)
    if key.rstrip("s") in document and isinstance(document[key.rstrip("s")], dict):
        return [document[key.rstrip("s")]]  # one object: {"ticket": {...}}
    return []
