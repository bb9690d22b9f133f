"""Small builders for test data, going through the real actions where one exists."""

import itertools
import uuid

from django.contrib.auth import get_user_model

from comptoir.conversations.inbound import IdentityClaim, InboundAttachment, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Channel, Message
from comptoir.customers.models import IdentityKind
from comptoir.tenancy.models import Brand, Membership, Role

_sequence = itertools.count(1)

PASSWORD = "correct-horse-battery"
# How long a WebSocket test waits for a frame it expects: a deadline for a state, generous
# so a busy two-core machine never fails a test that would pass on an idle one.
WS_TIMEOUT = 30


def make_brand(name: str = "Brand") -> Brand:
    n = next(_sequence)
    return Brand.objects.create(name=f"{name} {n}", slug=f"brand-{n}")


def make_agent(brand: Brand, role: str = Role.AGENT, first_name: str = "Alex") -> Membership:
    n = next(_sequence)
    user = get_user_model().objects.create_user(
        username=f"agent{n}", password=PASSWORD, first_name=first_name, last_name=f"Agent{n}"
    )
    return Membership.objects.create(user=user, brand=brand, role=role)


def chat_message(
    brand: Brand,
    text: str = "Bonjour, ma commande n'est pas arrivée",
    *,
    visitor_id: str | None = None,
    external_id: str | None = None,
    attachments: list[InboundAttachment] | None = None,
    extra_identities: list[IdentityClaim] | None = None,
) -> InboundMessage:
    visitor_id = visitor_id or uuid.uuid4().hex
    return InboundMessage(
        brand=brand,
        channel=Channel.WEBCHAT,
        external_id=external_id or f"{visitor_id}:{uuid.uuid4().hex}",
        text=text,
        identities=[
            IdentityClaim(IdentityKind.CHAT_VISITOR, visitor_id, verified=True),  # as the widget
            *(extra_identities or []),
        ],
        attachments=attachments or [],
    )


def ingest_chat(brand: Brand, text: str = "Bonjour", **kwargs) -> Message:
    return ingest_message(chat_message(brand, text, **kwargs)).message
