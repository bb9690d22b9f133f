"""The demo brand's mailbox: mail to ``support@maison-demo.example`` on the demo's SMTP port."""

from comptoir.tenancy.models import Brand
from comptoir.touchpoints.email.models import Mailbox

DEMO_MAILBOX = "support@maison-demo.example"


def ensure_demo_mailbox(brand: Brand) -> Mailbox:
    """Create (idempotently) the demo support address, acknowledging new conversations."""
    mailbox, _ = Mailbox.objects.get_or_create(
        address=DEMO_MAILBOX,
        defaults={
            "brand": brand,
            "sender_name": f"{brand.name} - Service client",
            "acknowledge": True,
            "response_time_hours": 24,
            "reopen_window_days": 7,
        },
    )
    return mailbox
