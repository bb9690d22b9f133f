"""Normalisation of identity claims, so that one person has one key per kind."""

import re
import uuid

import phonenumbers

from comptoir.customers.models import IdentityKind

DEFAULT_REGION = "FR"


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


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """E.164 (``+33612345678``); national numbers are read in the brand's ``region``."""
    try:
        number = phonenumbers.parse(value, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentity(f"not a phone number: {value!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentity(f"not a valid phone number: {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_identity(kind: str, value: str, *, region: str = DEFAULT_REGION) -> str:
    """Return the canonical form of ``value`` for ``kind`` or raise InvalidIdentity.

    ``region`` (ISO 3166 alpha-2, the brand's ``default_region``) reads national
    phone numbers.
    """
    if kind == IdentityKind.EMAIL:
        return normalise_email(value)
    if kind == IdentityKind.CHAT_VISITOR:
        return normalise_chat_visitor(value)
    if kind == IdentityKind.PHONE:
        return normalise_phone(value, region)
    if kind not in IdentityKind.values:
        raise InvalidIdentity(f"unknown identity kind: {kind!r}")
    value = value.strip()
    if not value:
        raise InvalidIdentity("empty identity")
    return value
