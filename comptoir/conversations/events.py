"""Temporary forwarder while call sites move to ``comptoir.events.log.append_event``."""

from typing import Any

from comptoir.events import log
from comptoir.events.actors import SYSTEM, Actor
from comptoir.events.kinds import KINDS
from comptoir.events.models import Event


def append_event(
    brand: Any, kind: str, payload: dict[str, Any], *, actor: Actor = SYSTEM, **options: Any
) -> Event:
    return log.append_event(brand, KINDS[kind], payload, actor=actor, **options)
