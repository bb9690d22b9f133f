"""Normalisation of identity claims, so that one person has one key per kind."""

import re
import uuid

from comptoir.customers.models import IdentityKind


class InvalidIdentity(ValueError):
    """The claimed value cannot be an identity of that kind."""


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(value: str) -> str:
    value = value.strip()
    if not _EMAIL_RE.match(value) or len(value) > 320:
        raise InvalidIdentity(f"not an e-mail address: {value!r}")
    local, _, domain = value.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidIdentity(f"invalid e-mail domain: {domain!r}") from exc
    return f"{local}@{domain}".casefold()


def normalise_chat_visitor(value: str) -> str:
    try:
        return uuid.UUID(value).hex
    except ValueError as exc:
        raise InvalidIdentity(f"not a visitor id: {value!r}") from exc


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[^\d+]", "", value)
    if not re.fullmatch(r"\+\d{6,15}", digits):
        raise InvalidIdentity(f"not an E.164 phone number: {value!r}")
    return digits


def normalise_identity(kind: str, value: str) -> str:
    """Return the canonical form of ``value`` for ``kind`` or raise InvalidIdentity."""
    if kind == IdentityKind.EMAIL:
        return normalise_email(value)
    if kind == IdentityKind.CHAT_VISITOR:
        return normalise_chat_visitor(value)
    if kind == IdentityKind.PHONE:
        return normalise_phone(value)
    if kind not in IdentityKind.values:
        raise InvalidIdentity(f"unknown identity kind: {kind!r}")
    value = value.strip()
    if not value:
        raise InvalidIdentity("empty identity")
    return value
