"""Demo data for identity resolution: one likely duplicate for the Duplicates page."""

from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Channel
from comptoir.customers.duplicates import propose_duplicates
from comptoir.customers.models import IdentityKind
from comptoir.tenancy.models import Brand


def ensure_demo_duplicates(brand: Brand) -> None:
    """Léa writes on WhatsApp from the number she called from: a second profile, proposed.

    Idempotent: the message has a fixed external id and a pair is proposed once.
    """
    ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.WHATSAPP,
            external_id="demo-whatsapp-lea-1",
            text="Bonjour, c'est Léa : le colis de remplacement est-il parti ?",
            identities=[IdentityClaim(IdentityKind.WHATSAPP, "33612345678", verified=True)],
            display_name="Léa M.",
        )
    )
    propose_duplicates(brand)
