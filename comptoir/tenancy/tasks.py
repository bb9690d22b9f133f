"""The tenancy app's background work: invitation mails."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from comptoir.mail_connection import mail_connection
from comptoir.tasks import task
from comptoir.tenancy.models import Membership


def set_password_path(user) -> str:
    """The console's set-password page for ``user``, with a fresh password-reset token.

    The token is never stored: Django derives it from the user's password hash
    and last login, so it stops working once the password is set.
    """
    return reverse(
        "console:password_set",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


@task(retries=5, retry_wait=60)
def send_invitation(membership_id: int, base_url: str) -> None:
    """Mail a newly invited agent the link to choose their password, in the brand's language.

    Safe to run twice: the second mail carries a link as valid as the first.
    """
    member = (
        Membership.objects.select_related("user", "brand")
        .filter(pk=membership_id, is_active=True)
        .first()
    )
    if member is None or not member.user.email:
        return  # deactivated meanwhile
    brand = member.brand
    with translation.override(brand.default_language):
        context = {
            "brand": brand,
            "member": member,
            "link": base_url.rstrip("/") + set_password_path(member.user),
        }
        mail = EmailMessage(
            subject=render_to_string("tenancy/invitation_subject.txt", context).strip(),
            body=render_to_string("tenancy/invitation.txt", context),
            from_email=f"{brand.name} <{brand.slug}@{settings.DEFAULT_FROM_DOMAIN}>",
            to=[member.user.email],
        )
    mail_connection().send_messages([mail])
