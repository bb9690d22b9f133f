"""The demo brand's WhatsApp number, with documented secrets so webhooks can be posted by hand.

Inbound works out of the box (sign the body with ``DEMO_APP_SECRET``, see the
README). Outbound needs somewhere to send to: set ``MESSAGING_DEMO_API_URL``
(e.g. ``http://127.0.0.1:8901/v21.0`` with ``comptoir messaging-sandbox``
running) before ``load_demo``; without it the demo account has no access
token and every WhatsApp reply fails at once with that reason in the console.
"""

import os

from comptoir.tenancy.models import Brand
from comptoir.touchpoints.messaging.models import (
    DEFAULT_API_BASE_URL,
    MessagingAccount,
    Provider,
)

# Documented demo values: never use them for a real account.
DEMO_PHONE_NUMBER_ID = "100000000000001"
DEMO_DISPLAY_NUMBER = "+33 1 84 88 00 00"
DEMO_APP_SECRET = "demo-whatsapp-app-secret"  # noqa: S105 (documented demo value)
DEMO_VERIFY_TOKEN = "demo-whatsapp-verify-token"  # noqa: S105 (documented demo value)
DEMO_ACCESS_TOKEN = "demo-whatsapp-access-token"  # noqa: S105 (documented demo value)


def ensure_demo_whatsapp(brand: Brand) -> MessagingAccount:
    """Create or update the demo WhatsApp account; outbound follows MESSAGING_DEMO_API_URL."""
    api_url = os.environ.get("MESSAGING_DEMO_API_URL", "").strip()
    account, _ = MessagingAccount.objects.update_or_create(
        provider=Provider.WHATSAPP,
        external_id=DEMO_PHONE_NUMBER_ID,
        defaults={
            "brand": brand,
            "display_name": DEMO_DISPLAY_NUMBER,
            "app_secret": DEMO_APP_SECRET,
            "verify_token": DEMO_VERIFY_TOKEN,
            "access_token": DEMO_ACCESS_TOKEN if api_url else "",
            "api_base_url": api_url or DEFAULT_API_BASE_URL,
        },
    )
    return account


def demo_whatsapp_lines(base_url: str, account: MessagingAccount) -> list[str]:
    """What ``load_demo`` prints about the demo number."""
    lines = [
        f"WhatsApp:  POST {base_url}/webhooks/whatsapp/{account.brand.slug} "
        f"(phone_number_id {account.external_id}, app secret {DEMO_APP_SECRET})",
    ]
    if account.access_token:
        lines.append(f"           replies sent to {account.api_base_url}")
    else:
        lines.append("           replies fail (set MESSAGING_DEMO_API_URL to send them)")
    return lines
