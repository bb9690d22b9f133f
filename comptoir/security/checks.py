"""``comptoir check --deploy`` checks of our own, beside Django's.

- ``comptoir.E001``: the secret key is a published one (even with ``DEBUG`` on, where
  settings accept it so that a developer can work).
- ``comptoir.W002``: no trusted ``Authentication-Results`` host for inbound mail, so only
  mails that say they failed DMARC are held apart (``touchpoints.email.authentication``).
- ``comptoir.W003``: channel secrets encrypted with a key derived from ``SECRET_KEY``
  (``security.fields``).
"""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from comptoir.security.secret_key import is_published


@register(Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs):
    if is_published(settings.SECRET_KEY):
        return [
            Error(
                "SECRET_KEY is a published value: anyone can forge sessions and widget "
                "visitor tokens.",
                hint="Set SECRET_KEY (or SECRET_KEY_FILE) to a long random string, the same "
                "on every process.",
                id="comptoir.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_mail_authentication(app_configs, **kwargs):
    if not settings.EMAIL_TRUSTED_AUTHSERV_IDS:
        return [
            Warning(
                "Inbound mail is not authenticated: no receiving host is trusted for its "
                "Authentication-Results header, so a forged From is believed unless the mail "
                "says it failed DMARC.",
                hint="Set EMAIL_TRUSTED_AUTHSERV_IDS to the authserv-id of the MTA that "
                "receives your mail and checks SPF, DKIM and DMARC (docs/email.md).",
                id="comptoir.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_field_encryption_keys(app_configs, **kwargs):
    if not settings.FIELD_ENCRYPTION_KEYS:
        return [
            Warning(
                "Channel secrets are encrypted with a key derived from SECRET_KEY: changing "
                "SECRET_KEY would make them unreadable.",
                hint="Set FIELD_ENCRYPTION_KEYS to a Fernet key of its own (docs/deployment.md).",
                id="comptoir.W003",
            )
        ]
    return []
