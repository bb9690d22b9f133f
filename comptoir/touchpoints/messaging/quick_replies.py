"""Taps on quick replies that are answers, not messages: the apps that sent them take them.

A survey's scores go out as buttons (WhatsApp list rows, Messenger quick replies)
whose ids start with the sending app's prefix. When a tap comes back, the app that
registered that prefix records it (``surveys.apps`` registers ``survey:``) and the
tap is not stored as a customer message: it would reopen a resolved conversation
and put it back in an agent's queue. Registered at start-up, so this module never
imports the apps above it.
"""

from collections.abc import Callable

from comptoir.tenancy.models import Brand

# handler(brand, channel, sender_id, reply_id) -> True once it took the tap.
QuickReplyHandler = Callable[[Brand, str, str, str], bool]

_HANDLERS: dict[str, QuickReplyHandler] = {}


def register(prefix: str, handler: QuickReplyHandler) -> None:
    _HANDLERS[prefix] = handler


def take(brand: Brand, channel: str, sender_id: str, reply_id: str) -> bool:
    """Whether an app took this tap as its answer (then it is not a message)."""
    for prefix, handler in _HANDLERS.items():
        if reply_id.startswith(prefix):
            return handler(brand, channel, sender_id, reply_id)
    return False
