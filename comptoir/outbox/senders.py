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
    """The provider did not take the delivery. ``permanent``: retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


Sender = Callable[["Delivery"], str]

_senders: dict[str, Sender] = {}


def register_sender(channel: str, sender: Sender) -> None:
    _senders[channel] = sender


def sender_for(channel: str) -> Sender | None:
    """The sender of ``channel``; None for channels delivered otherwise (web chat: sockets)."""
    return _senders.get(channel)
