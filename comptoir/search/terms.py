"""What an agent's search text may be besides words: an e-mail address, a phone number, a reference.

Identities are stored normalised (``customers.identities``): a phone number
typed ``06 12 34 56 78`` is looked up as ``+33612345678`` (read in the brand's
region) and as the WhatsApp id ``33612345678``; an e-mail address case-folded.
"""

import re
from contextlib import suppress
from dataclasses import dataclass, field

from comptoir.customers.identities import (
    InvalidIdentity,
    normalise_customer_number,
    normalise_email,
    normalise_phone,
)
from comptoir.customers.models import IdentityKind

_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]+$")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SearchTerms:
    text: str
    # Exact identities the text may be: (kind, normalised value).
    identities: list[tuple[str, str]] = field(default_factory=list)
    # The text looks like an address: compare it with e-mail addresses by trigrams too.
    email_like: bool = False
    # The text may be (part of) a name: compare it with customers' names.
    name_like: bool = False

    @property
    def words(self) -> list[str]:
        """Words and numbers, for SQLite FTS5 (which folds their accents itself)."""
        return _WORD.findall(self.text)


def read_terms(text: str, region: str) -> SearchTerms:
    """Split out the identities ``text`` may name; ``region`` reads national phone numbers."""
    text = text.strip()
    identities: list[tuple[str, str]] = []
    if "@" in text:
        with suppress(InvalidIdentity):
            identities.append((IdentityKind.EMAIL, normalise_email(text)))
    digits = re.sub(r"\D", "", text)
    if _PHONE_LIKE.match(text) and len(digits) >= 6:
        try:
            number = normalise_phone(text, region)
        except InvalidIdentity:
            number = None
        if number:
            identities.append((IdentityKind.PHONE, number))
            identities.append((IdentityKind.WHATSAPP, number.removeprefix("+")))
    if " " not in text and any(ch.isdigit() for ch in text):
        with suppress(InvalidIdentity):
            identities.append((IdentityKind.CUSTOMER_NUMBER, normalise_customer_number(text)))
    email_like = " " not in text and len(text) >= 4 and ("@" in text or "." in text)
    # An address is compared with addresses, not names (every Hugo Laurent is not hugo@…).
    name_like = "@" not in text and len(text) >= 3 and any(ch.isalpha() for ch in text)
    return SearchTerms(text=text, identities=identities, email_like=email_like, name_like=name_like)
