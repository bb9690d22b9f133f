"""``InboundMessage``: the channel-neutral shape every channel adapter produces."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from comptoir.tenancy.models import Brand
from comptoir.text_cleaning import clean_text


@dataclass(frozen=True)
class IdentityClaim:
    """Something the sender says about who they are (kind + raw value)."""

    kind: str
    value: str
    verified: bool = False

    def __post_init__(self) -> None:
        # Every channel's claims pass here: storable whatever the sender typed.
        object.__setattr__(self, "value", clean_text(self.value))


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "filename", clean_text(self.filename))
        object.__setattr__(self, "content_type", clean_text(self.content_type))


@dataclass
class InboundMessage:
    """A customer message as any channel delivers it, before Comptoir has stored it.

    ``(brand, channel, external_id)`` identifies the delivery: a retried send with
    the same external id is a no-op. ``identities`` are ordered, strongest first;
    the first one that matches a known identity decides the customer.
    """

    brand: Brand
    channel: str
    external_id: str
    text: str
    identities: list[IdentityClaim]
    attachments: list[InboundAttachment] = field(default_factory=list)
    display_name: str = ""
    language: str = ""
    received_at: datetime | None = None
    # The conversation's subject when this message opens one (an e-mail's Subject);
    # blank: the first line of the text.
    subject: str = ""
    # The conversation the channel says this message answers (an e-mail's
    # In-Reply-To or ``[#id]`` subject token). A hint, not an order: honoured only
    # when it belongs to the same brand and to the customer the claims recognise.
    thread_conversation_id: int | None = None
    # The sender claims an identity a known customer holds but could not prove it (an
    # unauthenticated mail): the message goes to a new customer of its own, so that it
    # neither joins nor reveals that customer's file (an agent confirms who it is).
    sender_unconfirmed: bool = False
    # For a hinted conversation that is resolved: reopen it when it was resolved
    # less than this long ago, else open a new conversation that ``follows`` it.
    reopen_window: timedelta | None = None

    def __post_init__(self) -> None:
        """Drop what PostgreSQL refuses (NUL, lone surrogates) from every text, on every channel.

        A NUL in one WhatsApp message used to fail its whole webhook batch forever.
        """
        self.external_id = clean_text(self.external_id)
        self.text = clean_text(self.text)
        self.display_name = clean_text(self.display_name)
        self.language = clean_text(self.language)
        self.subject = clean_text(self.subject)
