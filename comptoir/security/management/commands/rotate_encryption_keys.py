"""``comptoir rotate_encryption_keys``: re-encrypt every channel secret with the first key.

Put the new key first in ``FIELD_ENCRYPTION_KEYS`` (keeping the old one after it), run
this command, then remove the old key.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from comptoir.security.fields import PREFIX, EncryptedTextField, fernet


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        for model in apps.get_models():
            fields = [f for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            names = [f.attname for f in fields]
            with transaction.atomic():
                rows = list(model.objects.select_for_update().only("pk", *names))
                for row in rows:
                    for name in names:
                        stored = row.__dict__[name]
                        if stored and stored.startswith(PREFIX):
                            token = fernet().rotate(stored[len(PREFIX) :].encode("ascii"))
                            row.__dict__[name] = PREFIX + token.decode("ascii")
                model.objects.bulk_update(rows, names)
            self.stdout.write(f"{model._meta.label}: {len(rows)} rows re-encrypted")
