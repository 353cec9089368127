"""The SQLite backend (the embedded default of `make run`), whose tables check the tenant foreign keys.

Every ForeignKey between tenant tables is a `tenancy.distribution.TenantForeignKey` with
`db_constraint=False`: on PostgreSQL `converge()` puts a composite key
`(column, organization_id) -> (id, organization_id)` in its place, and this backend does the same
on SQLite, in the CREATE TABLE (SQLite cannot add a constraint to an existing table; Django's
SQLite schema editor rebuilds a table through `create_model` for every change, so the keys are
there after any migration). See tenancy/sqlite3/schema.py and docs/scaling.md."""

from django.db import IntegrityError
from django.db.backends.sqlite3 import base

from tenancy.sqlite3.schema import DatabaseSchemaEditor


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor

    def check_constraints(self, table_names=None):
        """Django's check, which reads a violation's columns from `PRAGMA foreign_key_list` by position
        (one row per foreign key): a composite key has one row per column, so it would name the wrong
        column, or fail with an IndexError. Same check; the message names every column of the key."""
        with self.cursor() as cursor:
            if table_names is None:
                violations = cursor.execute("PRAGMA foreign_key_check").fetchall()
            else:
                violations = [row for table in table_names for row in
                              cursor.execute(f"PRAGMA foreign_key_check({self.ops.quote_name(table)})").fetchall()]
            for table, rowid, referenced, key_id in violations:
                pairs = [(row[3], row[4]) for row in
                         cursor.execute(f"PRAGMA foreign_key_list({self.ops.quote_name(table)})").fetchall()
                         if row[0] == key_id]
                columns = ", ".join(column for column, _ in pairs)
                selected = ", ".join(self.ops.quote_name(column) for column, _ in pairs)
                query = f"SELECT {selected} FROM {self.ops.quote_name(table)} WHERE rowid = %s"  # noqa: S608 - names from the catalog
                values = cursor.execute(query, (rowid,)).fetchone()
                raise IntegrityError(
                    f"The row in table '{table}' with rowid {rowid} has an invalid foreign key: {table} ({columns}) "
                    f"= {tuple(values)} has no corresponding row in {referenced} "
                    f"({', '.join(str(target) for _, target in pairs)}).")
