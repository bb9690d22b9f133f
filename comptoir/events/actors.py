"""Who caused an event: an agent (their membership), or the customer, the assistant or Comptoir."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    AGENT = "agent", _("Agent")
    CUSTOMER = "customer", _("Customer")
    BOT = "bot", _("Assistant")
    SYSTEM = "system", _("System")


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    membership_id: int | None = None

    @classmethod
    def agent(cls, membership) -> "Actor":
        """An agent, supervisor or administrator acting through ``membership``."""
        return cls(ActorKind.AGENT, membership.pk)

    @classmethod
    def agent_or(cls, membership, otherwise: "Actor") -> "Actor":
        """The agent when there is one, else ``otherwise`` (actions that Comptoir also runs)."""
        return otherwise if membership is None else cls.agent(membership)


SYSTEM = Actor(ActorKind.SYSTEM)
CUSTOMER = Actor(ActorKind.CUSTOMER)
BOT = Actor(ActorKind.BOT)
