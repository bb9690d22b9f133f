"""The portal's background work: the mail carrying a sign-in code, and the purge of old codes."""

from datetime import timedelta
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from comptoir.customers.models import Identity
from comptoir.mail_connection import mail_connection
from comptoir.portal import codes
from comptoir.portal.models import CodePurpose, PortalSession, SignInCode
from comptoir.tasks import periodic, task
from comptoir.touchpoints.email.models import Mailbox


@task(retries=3, retry_wait=20)
def send_code(code_id: int) -> None:
    """Draw the code and the link's secret, store their hashes, mail them.

    Safe to run twice: a second run draws new secrets, so the latest mail holds
    the valid ones. A code to link a brand that does not know the address carries
    no code, only that news (told to the address's owner, never on the web page).
    """
    with transaction.atomic():
        code = (
            SignInCode.objects.select_for_update()
            .select_related("brand")
            .filter(pk=code_id, used_at=None, expires_at__gt=timezone.now())
            .first()
        )
        if code is None:
            return
        known = code.purpose == CodePurpose.SIGN_IN or (
            Identity.objects.filter(brand=code.brand, kind=code.kind, value=code.value).exists()
        )
        secret, token = codes.new_code(), codes.new_secret()
        code.code_hash = codes.code_hash(code.pk, secret) if known else ""
        code.link_hash = codes.secret_hash(token)
        code.save(update_fields=["code_hash", "link_hash"])
    brand = code.brand
    mailbox = Mailbox.objects.filter(brand=brand).order_by("pk").first()
    with translation.override(code.language):
        context = {
            "brand": brand,
            "code": secret,
            "known": known,
            "link_purpose": code.purpose == CodePurpose.LINK,
            "link": settings.PUBLIC_URL
            + reverse("portal:code_link", kwargs={"brand_slug": brand.slug, "token": token}),
            "minutes": int(codes.CODE_LIFETIME.total_seconds() // 60),
        }
        mail = EmailMessage(
            subject=render_to_string("portal/code_subject.txt", context).strip(),
            body=render_to_string("portal/code.txt", context),
            from_email=formataddr(
                (
                    (mailbox.sender_name if mailbox else "") or brand.name,
                    mailbox.address if mailbox else f"{brand.slug}@{settings.DEFAULT_FROM_DOMAIN}",
                )
            ),
            to=[code.value],
        )
    mail_connection(mailbox.smtp_url if mailbox else "").send_messages([mail])


@periodic(cron="17 * * * *")
def purge_portal_codes() -> None:
    """Codes a day past their expiry and ended sessions go: they prove nothing any more."""
    now = timezone.now()
    SignInCode.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    PortalSession.objects.filter(expires_at__lt=now).delete()
