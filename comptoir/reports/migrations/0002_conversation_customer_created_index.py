"""An index the first-contact-resolution measure needs on conversations: (customer, created_at).

FCR asks, for each resolved conversation, whether the same person opened another
one within the window after its resolution (``reports.measures.with_repeat``).
Created here, by the app that needs it, so that the conversations app's own
migrations stay as they are; ``IF NOT EXISTS`` lets it move there later.
"""

from django.db import migrations

INDEX = "reports_conv_customer_created"


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("conversations", "0003_delete_event"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {INDEX} "
            "ON conversations_conversation (customer_id, created_at)",
            f"DROP INDEX IF EXISTS {INDEX}",
        )
    ]
