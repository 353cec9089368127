"""On PostgreSQL, a trigger makes the audit table append-only for every client, not just
the ORM: UPDATE and DELETE raise. (SQLite relies on the model refusing both.)"""

from django.db import migrations

CREATE = """
CREATE FUNCTION tenancy_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER tenancy_auditentry_append_only BEFORE UPDATE OR DELETE ON tenancy_auditentry
    FOR EACH ROW EXECUTE FUNCTION tenancy_audit_append_only();
"""
DROP = """
DROP TRIGGER tenancy_auditentry_append_only ON tenancy_auditentry;
DROP FUNCTION tenancy_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
