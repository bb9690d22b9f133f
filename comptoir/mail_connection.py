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


def mail_connection() -> BaseEmailBackend:
    if settings.EMAIL_FILE_PATH:
        return get_connection(FILE_BACKEND, file_path=settings.EMAIL_FILE_PATH)
    return get_connection(SMTP_BACKEND, fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
