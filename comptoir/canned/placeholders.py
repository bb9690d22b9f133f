"""The placeholders of a canned reply, filled from the conversation it is inserted into.

Only these names are replaced (plain substitution, not a template language:
a reply's text can never run anything); an unknown ``{{ … }}`` stays as typed.
"""

import re

from django.utils.translation import gettext_lazy as _

from comptoir.conversations.models import Conversation
from comptoir.tenancy.models import Membership

PLACEHOLDERS = {
    "customer.first_name": _("the customer's first name"),
    "customer.name": _("the customer's full name"),
    "agent.first_name": _("your first name"),
    "agent.name": _("your full name"),
    "brand.name": _("the brand's name"),
}
_PATTERN = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
# "Bonjour {{ customer.first_name }}," for a customer without a name: "Bonjour,".
_SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([,.!?;:])")


def values_for(conversation: Conversation, agent: Membership) -> dict[str, str]:
    name = conversation.customer.display_name.strip()
    return {
        "customer.first_name": name.split()[0] if name else "",
        "customer.name": name,
        "agent.first_name": agent.user.first_name or agent.display_name,
        "agent.name": agent.display_name,
        "brand.name": agent.brand.name,
    }


def fill(body: str, values: dict[str, str]) -> str:
    """``body`` with its known placeholders replaced by ``values``."""

    def replace(match: re.Match) -> str:
        return values.get(match.group(1), match.group(0))

    filled = _PATTERN.sub(replace, body)
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", filled) if filled != body else filled
