"""Signing in to the customer portal in tests: ask a code, read it from the real SMTP server."""

import re

from django.urls import reverse

from comptoir.conversations.inbound import IdentityClaim, InboundMessage
from comptoir.conversations.ingest import ingest_message
from comptoir.conversations.models import Channel, Message
from comptoir.customers.models import IdentityKind
from comptoir.tasks import run_pending

CODE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)
LINK = re.compile(r"https?://\S+/me/\S+/code/\S+/")


def mail_from(brand, address: str, text: str, *, external_id: str = "") -> Message:
    """A message from ``address`` (an authenticated mail: the address is verified)."""
    return ingest_message(
        InboundMessage(
            brand=brand,
            channel=Channel.EMAIL,
            external_id=external_id or f"<{address}-{text[:10]}@mail.example>",
            text=text,
            identities=[IdentityClaim(IdentityKind.EMAIL, address, verified=True)],
            subject=text[:40],
        )
    ).message


def mail_to(smtp, address: str):
    """The latest mail the SMTP server received for ``address``."""
    return [m for m in smtp.received if address in m.rcpt_tos][-1].message


def ask_code(client, brand, address: str, smtp) -> tuple[str, str]:
    """Ask a code at the brand's portal page; (code, link path) as mailed."""
    response = client.post(reverse("portal:sign_in", args=[brand.slug]), {"address": address})
    assert response.status_code == 302, response.status_code
    run_pending()
    body = mail_to(smtp, address).get_content()
    code = CODE.search(body)
    link = LINK.search(body)
    return (code.group(1) if code else ""), (
        "/me/" + link.group(0).split("/me/", 1)[1] if link else ""
    )


def portal_sign_in(client, brand, address: str, smtp) -> None:
    code, _ = ask_code(client, brand, address, smtp)
    response = client.post(reverse("portal:code", args=[brand.slug]), {"code": code})
    assert response.status_code == 302, response.content
    assert response["Location"] == reverse("portal:home")


def portal_session(client, brand, value: str, kind: str = IdentityKind.EMAIL) -> None:
    """Sign ``client`` in to the portal as the person proving ``kind:value`` at ``brand``
    (without a mail: what a proved code leaves behind)."""
    from django.utils import timezone

    from comptoir.portal import codes
    from comptoir.portal.access import SESSION_COOKIE
    from comptoir.portal.models import PortalAccount, PortalLink, PortalSession

    now = timezone.now()
    account = PortalAccount.objects.create()
    PortalLink.objects.create(
        account=account, brand=brand, kind=kind, value=value, consented_at=now, created_at=now
    )
    key = codes.new_secret()
    PortalSession.objects.create(
        account=account,
        key_hash=codes.secret_hash(key),
        created_at=now,
        expires_at=now + codes.SESSION_LIFETIME,
    )
    client.cookies[SESSION_COOKIE] = key
