"""The search indexes of the database's vendor (see ``comptoir.search.ddl``)."""

from django.db import migrations


def install(apps, schema_editor):
    from comptoir.search import ddl

    ddl.install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from comptoir.search import ddl

    ddl.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_initial"),
        ("conversations", "0003_delete_event"),
        ("customers", "0004_customer_advisor"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
