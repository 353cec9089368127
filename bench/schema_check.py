"""How far the schema is from distribution by `organization_id` (PostgreSQL + Citus, the path past one
database server): every tenant table's primary key, unique constraints and foreign keys to other tenant
tables must include `organization_id`; tables without it must be reference tables (small, the same on
every node) or Django's own.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inflow_bench .venv/bin/python -m bench.schema_check

Prints one line per violation and a count per kind; exit status 0 either way (a report, not a gate:
docs/scaling.md says what is left)."""

from __future__ import annotations

from collections import Counter

APPS = ("tenancy", "receivables", "credit", "dunning", "factoring", "insurance", "forecasting")
# Tables every node needs whole (Citus reference tables): the tenants themselves and global lookups.
REFERENCE = {"tenancy_organization"}


def violations() -> list[tuple[str, str, str]]:
    """(table, kind, detail) for every constraint that would stop distribution by organization_id."""
    from django.apps import apps
    from django.db import connection

    tables = {model._meta.db_table for app in APPS if apps.is_installed(app)
              for model in apps.get_app_config(app).get_models() if not model._meta.proxy and model._meta.managed}
    found = []
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            WHERE a.attname = 'organization_id' AND a.attnum > 0 AND NOT a.attisdropped""")
        tenant = {table for table, _ in cursor.fetchall()} & tables
        cursor.execute("""
            SELECT c.relname, con.conname, con.contype, f.relname,
                   ARRAY(SELECT a.attname FROM unnest(con.conkey) k JOIN pg_attribute a
                         ON a.attrelid = con.conrelid AND a.attnum = k)
            FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
            LEFT JOIN pg_class f ON f.oid = con.confrelid
            WHERE con.contype IN ('p', 'u', 'f')""")
        constraints = cursor.fetchall()
        cursor.execute("""
            SELECT t.relname, i.relname, ARRAY(SELECT a.attname FROM unnest(x.indkey) k JOIN pg_attribute a
                                               ON a.attrelid = x.indrelid AND a.attnum = k)
            FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indisunique AND NOT x.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid)""")
        unique_indexes = cursor.fetchall()
    for table in sorted(tables - tenant - REFERENCE):
        found.append((table, "no organization_id", "neither a tenant table nor a reference table"))
    for table, name, kind, referenced, columns in constraints:
        if table not in tenant or "organization_id" in columns:
            continue
        if kind == "p":
            found.append((table, "primary key", f"{name} ({', '.join(columns)})"))
        elif kind == "u":
            found.append((table, "unique", f"{name} ({', '.join(columns)})"))
        elif kind == "f" and referenced in tenant:
            found.append((table, "foreign key", f"{name} ({', '.join(columns)}) -> {referenced}"))
    for table, name, columns in unique_indexes:
        if table in tenant and "organization_id" not in columns:
            found.append((table, "unique index", f"{name} ({', '.join(columns)})"))
    return found


def main() -> None:
    from bench.db import bench_setup

    bench_setup()
    found = violations()
    for table, kind, detail in found:
        print(f"{table:<40} {kind:<18} {detail}")
    counts = Counter(kind for _table, kind, _detail in found)
    print("\n" + (", ".join(f"{kind}: {count}" for kind, count in sorted(counts.items())) or "no violations"))


if __name__ == "__main__":
    main()
