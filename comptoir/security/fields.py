"""Channel secrets encrypted at rest: ``EncryptedTextField`` (Fernet, keys from the environment).

Webhook secrets, provider tokens and IMAP URLs (with their password) are stored as
``fernet:<token>``; a database dump or a read-only SQL injection no longer hands them
out. The keys come from ``FIELD_ENCRYPTION_KEYS`` (comma-separated Fernet keys: the
first encrypts, every one decrypts, so a new key is put first and the old one kept
until ``comptoir rotate_encryption_keys`` has re-encrypted every row); without it, a
key derived from ``SECRET_KEY`` (``check --deploy`` warns, ``comptoir.W003``).

The value is decrypted when read from the model (a data descriptor, so rows built from
raw SQL with ``Model.from_db`` decrypt too) and encrypted when saved. A stored value
without the prefix (a row from before the migration) reads as is and is encrypted at its
next save. Encrypted columns cannot be searched: only ``""`` (no secret) compares.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.query_utils import DeferredAttribute

PREFIX = "fernet:"


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        digest = hashlib.sha256(b"comptoir field encryption\0" + secret_key.encode()).digest()
        keys = (base64.urlsafe_b64encode(digest).decode("ascii"),)
    try:
        return MultiFernet([Fernet(key.encode("ascii")) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe base64-encoded bytes), "
            "e.g. from `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`"
        ) from error


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    if not value or value.startswith(PREFIX):
        return value
    return PREFIX + fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(value: str | None) -> str | None:
    if not value or not value.startswith(PREFIX):
        return value
    try:
        return fernet().decrypt(value[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise ImproperlyConfigured(
            "A channel secret cannot be decrypted with FIELD_ENCRYPTION_KEYS: keep the key "
            "it was encrypted with in the list (after the new one) until it is rotated."
        ) from error


class DecryptedAttribute(DeferredAttribute):
    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        return decrypt(super().__get__(instance, cls))

    def __set__(self, instance, value) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    descriptor_class = DecryptedAttribute

    def get_prep_value(self, value):
        return encrypt(super().get_prep_value(value))


def encrypt_existing_rows(app_label: str, model_name: str, *field_names: str):
    """A ``RunPython`` function encrypting the plaintext secrets of rows saved before."""

    def forwards(apps, schema_editor) -> None:
        model = apps.get_model(app_label, model_name)
        rows = list(model.objects.using(schema_editor.connection.alias).all())
        # Each attribute reads decrypted (plaintext as is); saving encrypts.
        model.objects.using(schema_editor.connection.alias).bulk_update(rows, list(field_names))

    return forwards
