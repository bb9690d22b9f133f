"""Changes to a brand's mailboxes (the console's Settings → Channels)."""

from comptoir.tenancy.actions import save_brand_object
from comptoir.tenancy.models import Membership
from comptoir.touchpoints.email.models import Mailbox


def save_mailbox(actor: Membership, mailbox: Mailbox | None, values: dict) -> Mailbox:
    """Create (``mailbox`` None) or change a mailbox of the actor's brand.

    Mail to its address opens conversations from the next mail on; an
    ``imap_url`` is polled from the next IMAP round.
    """
    mailbox = mailbox or Mailbox()
    save_brand_object(actor, mailbox, values, "mailbox")
    return mailbox
