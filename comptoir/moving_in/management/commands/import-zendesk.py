"""``comptoir import-zendesk PATH --brand SLUG``: users and tickets of a Zendesk export."""

from comptoir.moving_in import zendesk
from comptoir.moving_in.management.commands._importing import ImportCommand


class Command(ImportCommand):
    help = "Import a Zendesk export (users.json, tickets.json with comments) into a brand."
    source = zendesk.SOURCE
    read_export = staticmethod(zendesk.read_export)
