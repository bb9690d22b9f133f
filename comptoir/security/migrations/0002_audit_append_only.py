"""On PostgreSQL, audit entries cannot be changed, and deleted only by the retention purge.

The purge (``security.audit.purge_audit_log``) sets ``comptoir.audit_purge`` for its own
transaction; any other UPDATE or DELETE, whoever sends it, is refused.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION security_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('comptoir.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'the audit log is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER security_auditentry_append_only
    BEFORE UPDATE OR DELETE ON security_auditentry
    FOR EACH ROW EXECUTE FUNCTION security_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS security_auditentry_append_only ON security_auditentry;
DROP FUNCTION IF EXISTS security_audit_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("security", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
