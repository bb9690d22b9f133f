"""Normalisation of identity claims, so that one person has one key per kind."""

import re
import uuid
from email.utils import parseaddr

import idna
import phonenumbers

from comptoir.customers.models import IdentityKind
from comptoir.privacy.cards import mask_card_numbers, shown_in_error

DEFAULT_REGION = "FR"


class InvalidIdentity(ValueError):
    """The claimed value cannot be an identity of that kind.

    The message quotes the value through ``shown_in_error`` (cut short, card
    numbers masked): it reaches logs and 400 answers.
    """


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DIGITS_RE = re.compile(r"^\d{5,20}$")
_CUSTOMER_NUMBER_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,63}$")


def normalise_email(value: str) -> str:
    """``Jean@Exämple.FR`` → ``jean@xn--exmple-cua.fr``.

    The local part is case-folded (no mail provider in practice treats ``Jean``
    and ``jean`` as two people) and the domain is written in its ASCII (IDNA)
    form, so the Unicode and the punycode spellings of one address are one key.
    ``Name <address>`` and ``mailto:`` forms, as channels sometimes pass them,
    are unwrapped first.
    """
    value = value.strip()
    if "<" in value:
        value = parseaddr(value)[1]
    if value[:7].lower() == "mailto:":
        value = value[7:]
    # Length first: the pattern backtracks quadratically on a long near-miss.
    if len(value) > 320 or not _EMAIL_RE.match(value):
        raise InvalidIdentity(f"not an e-mail address: {shown_in_error(value)}")
    local, _, domain = value.rpartition("@")
    domain = domain.rstrip(".")
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        try:
            domain = domain.casefold().encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise InvalidIdentity(f"invalid e-mail domain: {shown_in_error(domain)}") from exc
    return f"{local.casefold()}@{domain.casefold()}"


def normalise_digits_id(value: str, what: str) -> str:
    """A numeric platform id (WhatsApp id, Messenger PSID): digits only.

    WhatsApp ids are phone numbers without ``+``; people paste them with ``+``,
    spaces or dashes, which are dropped.
    """
    digits = re.sub(r"[\s+().-]", "", value)
    if not _DIGITS_RE.match(digits):
        raise InvalidIdentity(f"not a {what}: {shown_in_error(value)}")
    return digits


def normalise_customer_number(value: str) -> str:
    """A brand's customer number: spaces dropped, upper-case (``ab 123`` → ``AB123``)."""
    number = re.sub(r"\s+", "", value).upper()
    if not _CUSTOMER_NUMBER_RE.match(number):
        raise InvalidIdentity(f"not a customer number: {shown_in_error(value)}")
    if mask_card_numbers(number) != number:
        # Identities are stored as given: a card number typed here would escape masking.
        raise InvalidIdentity("a payment card number is not a customer number")
    return number


def normalise_chat_visitor(value: str) -> str:
    try:
        return uuid.UUID(value).hex
    except ValueError as exc:
        raise InvalidIdentity(f"not a visitor id: {shown_in_error(value)}") from exc


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """E.164 (``+33612345678``); national numbers are read in the brand's ``region``."""
    try:
        number = phonenumbers.parse(value, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentity(f"not a phone number: {shown_in_error(value)}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentity(f"not a valid phone number: {shown_in_error(value)}")
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
    if kind == IdentityKind.WHATSAPP:
        return normalise_digits_id(value, "WhatsApp id")
    if kind == IdentityKind.MESSENGER:
        return normalise_digits_id(value, "Messenger id")
    if kind == IdentityKind.CUSTOMER_NUMBER:
        return normalise_customer_number(value)
    raise InvalidIdentity(f"unknown identity kind: {shown_in_error(str(kind))}")
