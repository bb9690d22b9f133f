"""Changes to a brand's WhatsApp numbers and Messenger pages (the console's Settings → Channels)."""

import secrets

from django.db import transaction

from comptoir.tenancy.actions import record_settings_change, save_brand_object
from comptoir.tenancy.models import Membership
from comptoir.touchpoints.messaging.models import MessagingAccount


def new_verify_token() -> str:
    return secrets.token_urlsafe(24)


def save_messaging_account(
    actor: Membership, account: MessagingAccount | None, values: dict
) -> tuple[MessagingAccount, str | None]:
    """Create or change an account; with a new account, its webhook verify token (shown once).

    The app secret and access token come from Meta's dashboard and are typed
    in; the verify token is Comptoir's to choose, so it is generated here.
    """
    created = account is None
    account = account or MessagingAccount()
    token = new_verify_token() if created else None
    if token is not None:
        values = {**values, "verify_token": token}
    save_brand_object(actor, account, values, "messaging_account")
    return account, token


def rotate_verify_token(actor: Membership, account: MessagingAccount) -> str:
    """A new verify token for Meta's webhook handshake; the old one stops answering at once."""
    token = new_verify_token()
    with transaction.atomic():
        MessagingAccount.objects.filter(pk=account.pk).update(verify_token=token)
        record_settings_change(
            actor,
            actor.brand_id,
            "messaging_account",
            account.pk,
            "secret_rotated",
            ["verify_token"],
        )
    account.verify_token = token
    return token
