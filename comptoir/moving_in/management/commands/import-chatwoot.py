"""``comptoir import-chatwoot PATH --brand SLUG``: contacts and conversations of Chatwoot."""

from comptoir.moving_in import chatwoot
from comptoir.moving_in.management.commands._importing import ImportCommand


class Command(ImportCommand):
    help = "Import a Chatwoot export (contacts.csv, conversations.json with messages)."
    source = chatwoot.SOURCE
    read_export = staticmethod(chatwoot.read_export)
