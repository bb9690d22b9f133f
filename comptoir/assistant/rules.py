"""Plain-text rules that must never depend on a statistical model.

"The customer can always type conseiller/agent to reach a human": that
promise is kept by a rule, not by a classifier that might score it 0.6. The
same goes for spotting an order number, for a customer saying the answer
did not help, and for writing the brand system's dates as the customer reads them.
"""

import re
import unicodedata
from datetime import date

from django.utils import translation
from django.utils.formats import date_format

from comptoir.assistant.scope import LANGUAGES


def fold(text: str) -> str:
    """Lower case, no accents, typographic apostrophes made plain ("À" → "a")."""
    text = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("`", "'"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


_HUMAN_REQUEST = re.compile(
    r"""\b(
        conseill(?:er|ere|ers|eres)
      | agents?
      | humains?
      | operat(?:eur|rice|or|ors)
      | (?:une?\s+)?(?:vraie?|vrai)\s+personne
      | (?:parler|discuter|echanger|avoir)\s+(?:a|avec)\s+
        (?:quelqu'?un|une\s+personne|un\s+etre\s+humain|un\s+responsable|le\s+service\s+client)
      | (?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|some|some\s+)?
        (?:one|body|person|human|people|real\s+person|live\s+person)
      | someone\s+real
      | (?:real|live|actual)\s+(?:person|human|people|agent)
      | representatives?
      | customer\s+service\s+rep
      | human\s+being
    )\b""",
    re.VERBOSE,
)

_REJECTION = re.compile(
    r"""(
        (?:ca|cela|ceci|vous)\s+ne\s+r[eé]pond(?:ez)?\s+pas
      | pas\s+(?:du\s+tout\s+)?(?:ma|a\s+ma)\s+question
      | (?:ce\s+n'?est|c'?est)\s+pas\s+(?:ca|ce\s+que\s+j'?ai\s+demande)
      | ne\s+m'?aide\s+pas | pas\s+utile | inutile | rien\s+a\s+voir
      | (?:does\s*n'?t|did\s*n'?t|does\s+not|did\s+not)\s+(?:answer|help)
      | not\s+(?:what\s+i\s+(?:asked|meant)|helpful|my\s+question)
      | (?:that'?s|this\s+is)\s+(?:wrong|useless|not\s+it)
      | useless | you\s+(?:did\s*n'?t|don'?t)\s+understand | vous\s+ne\s+comprenez\s+pas
    )""",
    re.VERBOSE,
)

# "MD-10482", "md10482", "commande 10482": letters-dash-digits or 4 to 9 bare digits.
_ORDER_NUMBER = re.compile(r"\b([A-Za-z]{1,4}-?\d{3,12}|\d{4,9})\b")


_GREETING = re.compile(
    r"^\W*(?:(?:bonjour|bonsoir|salut|coucou|hello|hi|hey|good\s+(?:morning|afternoon|evening)"
    r"|madame|monsieur|there|a\s+tous|everyone|all)\W*)+$"
)


def is_greeting(text: str) -> bool:
    """Only a greeting ("Bonjour !", "hi there"): nothing asked yet, so nothing to hand off."""
    return bool(_GREETING.match(fold(text)))


def asks_for_human(text: str) -> bool:
    return bool(_HUMAN_REQUEST.search(fold(text)))


def rejects_answer(text: str) -> bool:
    return bool(_REJECTION.search(fold(text)))


def extract_order_number(text: str) -> str | None:
    """The first thing that looks like an order number, upper-cased; None when there is none."""
    match = _ORDER_NUMBER.search(text)
    return match.group(1).upper() if match else None


class _Defaulting(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render_template(template: str, values: dict[str, str]) -> str:
    """Fill ``{placeholders}``; unknown ones become empty, stray braces stay as they are."""
    try:
        return template.format_map(_Defaulting(values)).strip()
    except (ValueError, IndexError, AttributeError, KeyError):
        return template.strip()


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def customer_date(value: str, language: str) -> str:
    """An ISO date of the brand's system ("2026-12-06") as the customer reads dates in their
    language ("6 décembre 2026", "Dec. 6, 2026"); any other value as it is."""
    if not _ISO_DATE.fullmatch(value):
        return value
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    with translation.override(language if language in LANGUAGES else "fr"):
        return date_format(day, "DATE_FORMAT")
