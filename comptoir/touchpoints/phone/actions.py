"""Changes to a brand's phone lines (the console's Settings → Channels)."""

import secrets

from django.db import transaction

from comptoir.tenancy.actions import record_settings_change, save_brand_object
from comptoir.tenancy.models import Membership
from comptoir.touchpoints.phone.models import PhoneLine


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def save_phone_line(
    actor: Membership, line: PhoneLine | None, values: dict
) -> tuple[PhoneLine, str | None]:
    """Create or change a line; with a new line, the secret its call-event webhooks sign with.

    The secret is shown once to the administrator who creates the line, to
    paste into the telephony provider's webhook settings.
    """
    created = line is None
    line = line or PhoneLine()
    secret = new_webhook_secret() if created else None
    if secret is not None:
        values = {**values, "webhook_secret": secret}
    save_brand_object(actor, line, values, "phone_line")
    return line, secret


def rotate_webhook_secret(actor: Membership, line: PhoneLine) -> str:
    """A new signing secret for the line's generic webhooks; the old one is refused at once."""
    secret = new_webhook_secret()
    with transaction.atomic():
        PhoneLine.objects.filter(pk=line.pk).update(webhook_secret=secret)
        record_settings_change(
            actor, actor.brand_id, "phone_line", line.pk, "secret_rotated", ["webhook_secret"]
        )
    line.webhook_secret = secret
    return secret
