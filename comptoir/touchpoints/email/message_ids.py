"""The one stored form of a Message-ID, shared by inbound and outbound mail.

Threading compares the ``In-Reply-To``/``References`` of an incoming mail with
the ``Message.external_id`` of mail Comptoir received *and* sent, so both sides
must store ids identically. The form is the one ``parsing.py`` uses for
inbound mail (``ParsedMail.external_id``):

* no angle brackets, no surrounding whitespace: ``"abc.123@mail.example.com"``;
* case kept as written (RFC 5322 ids are compared as opaque strings);
* an id longer than the ``external_id`` column (255) is stored as
  ``"mid-sha256:<hex digest of the bracket-less id>"``.

Outbound code generates an id with :func:`new_message_id`, writes
``f"<{id}>"`` in the ``Message-ID`` header and stores
``normalise_message_id(id)`` (identical for a generated id) in
``Message.external_id``.
"""

import hashlib
import re
import uuid

MAX_EXTERNAL_ID_CHARS = 255  # Message.external_id column
_BRACKETED_ID = re.compile(r"<([^<>\s]{1,998})>")


def normalise_message_id(value: str) -> str:
    """The stored form of a Message-ID given with or without ``<>``; ``""`` for nothing."""
    value = (value or "").strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    if not value:
        return ""
    if len(value) > MAX_EXTERNAL_ID_CHARS:
        return "mid-sha256:" + hashlib.sha256(value.encode()).hexdigest()
    return value


def message_ids_in(value: str) -> list[str]:
    """The ``<id>`` tokens of a header value, bracket-less, in order (``References`` style)."""
    return [mid for mid in _BRACKETED_ID.findall(value or "") if mid]


def new_message_id(domain: str) -> str:
    """A fresh, globally unique Message-ID (bracket-less, already normalised)."""
    return f"{uuid.uuid4().hex}@{domain.strip().lower() or 'comptoir.invalid'}"
