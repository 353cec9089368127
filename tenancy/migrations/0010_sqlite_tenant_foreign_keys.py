"""On SQLite (the embedded default of `make run`), a database migrated before the `tenancy.sqlite3`
backend gets its tenant keys: every tenant table that lacks UNIQUE (id, organization_id) or a composite
foreign key `(column, organization_id) -> (id, organization_id)` is rebuilt by that backend's schema
editor, which declares them in the CREATE TABLE (tenancy/sqlite3/schema.py). A database migrated from
scratch has them already and nothing is rebuilt. PostgreSQL got the same keys from converge()
(forecasting/0007). Without this, the first later migration that rebuilds one tenant table of an old
database would give it a composite key to a parent without the unique key: SQLite then refuses every
write to that table ("foreign key mismatch").

It depends on forecasting/0007 (as that one does on every app) so that it sees every tenant table in its
final shape; it imports nothing from the apps above tenancy."""

from django.db import migrations


def rebuild_unchecked(apps, schema_editor):
    from tenancy.distribution import models_all
    from tenancy.sqlite3.schema import DatabaseSchemaEditor, missing_keys, table_name

    if not isinstance(schema_editor, DatabaseSchemaEditor):
        return  # PostgreSQL (converge() made the keys), or SQLite through Django's own backend
    models = models_all(apps)
    # Two passes: first the tables without their UNIQUE (id, organization_id) (the editor leaves out a
    # key to a parent that lacks it), then every table still missing a key, the parents now ready.
    for parents_first in (True, False):
        with schema_editor.connection.cursor() as cursor:
            missing = {table for table, what in missing_keys(cursor, models)
                       if not parents_first or what.startswith("no UNIQUE")}
        for model in models:
            if table_name(model) in missing:
                schema_editor._remake_table(model)


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0009_distribution_keys"),
        ("forecasting", "0007_distribute_by_organization"),
    ]

    operations = [migrations.RunPython(rebuild_unchecked, migrations.RunPython.noop)]
