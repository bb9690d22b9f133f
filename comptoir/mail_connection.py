"""The connection every mail Comptoir sends leaves through: SMTP, or files for the demo.

The SMTP backend is used whatever ``EMAIL_BACKEND`` says: the outbox's retry
policy rests on SMTP reply codes (4xx try later, 5xx for a recipient never),
and invitations go through the same server. Only an ``EMAIL_URL`` of
``file:DIR`` writes each mail into a directory instead.
"""

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


def mail_connection(email_url: str = "") -> BaseEmailBackend:
    """The platform's connection (``EMAIL_URL``), or the one ``email_url`` names.

    ``email_url``: a mailbox's own outgoing server (Settings → Channels), in the
    same ``smtp://``, ``smtp+starttls://`` or ``smtps://`` form as ``EMAIL_URL``.
    """
    if email_url:
        from comptoir.settings import parse_email_url

        own = parse_email_url(email_url)
        if "EMAIL_FILE_PATH" in own:
            return get_connection(FILE_BACKEND, file_path=own["EMAIL_FILE_PATH"])
        return get_connection(
            SMTP_BACKEND,
            fail_silently=False,
            timeout=settings.EMAIL_TIMEOUT,
            host=own["EMAIL_HOST"],
            port=own["EMAIL_PORT"],
            username=own["EMAIL_HOST_USER"],
            password=own["EMAIL_HOST_PASSWORD"],
            use_tls=own["EMAIL_USE_TLS"],
            use_ssl=own["EMAIL_USE_SSL"],
        )
    if settings.EMAIL_FILE_PATH:
        return get_connection(FILE_BACKEND, file_path=settings.EMAIL_FILE_PATH)
    return get_connection(SMTP_BACKEND, fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
