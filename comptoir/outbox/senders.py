"""The registry of channel senders: how a delivery leaves on each channel.

A channel app registers its sender in ``AppConfig.ready``. A sender is called
outside any transaction (it does network I/O), returns the provider's id for
what it sent, and raises ``DeliveryError`` when it could not send; the worker
then retries with backoff unless the error is permanent.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from comptoir.outbox.models import Delivery


class DeliveryError(Exception):
    """The provider did not take the delivery. ``permanent``: retrying cannot help.

    ``reason`` is for the logs and the administrator (the provider's words);
    ``code`` is what agents are told, in their language (``outbox.failures``).
    """

    def __init__(self, reason: str, *, permanent: bool = False, code: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code


Sender = Callable[["Delivery"], str]
# Whether a brand is set up to send on a channel (an active account…), by brand id.
Configured = Callable[[int], bool]

_senders: dict[str, Sender] = {}
_configured: dict[str, Configured] = {}


def register_sender(channel: str, sender: Sender, *, configured: Configured | None = None) -> None:
    """``configured``: whether a brand can send on the channel (omitted: every brand can)."""
    _senders[channel] = sender
    if configured is not None:
        _configured[channel] = configured


def brand_can_send(channel: str, brand_id: int) -> bool:
    """Whether ``channel`` has a sender and the brand is set up for it (one query at most)."""
    if channel not in _senders:
        return False
    configured = _configured.get(channel)
    return configured is None or configured(brand_id)


def sender_for(channel: str) -> Sender | None:
    """The sender of ``channel``; None for channels delivered otherwise (web chat: sockets)."""
    return _senders.get(channel)
