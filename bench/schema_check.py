"""How far the schema is from distribution by `organization_id` (PostgreSQL + Citus, the path past one
database server): the rules and the check are tenancy.distribution's (the same check
tests/test_schema_distribution.py runs); this prints them for a bench database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/inflow_bench .venv/bin/python -m bench.schema_check [--citus]

Prints one line per violation and a count per kind; exit status 0 either way (a report, not a gate:
the test is the gate). With --citus, also the create_reference_table / create_distributed_table calls
that distribute this schema, in an order Citus accepts."""

from __future__ import annotations

import sys
from collections import Counter


def main() -> None:
    from bench.db import bench_setup

    bench_setup()
    from tenancy.distribution import LOCAL, REFERENCE, citus_statements, models_all, tenant_tables, violations

    found = violations()
    for violation in found:
        print(f"{violation.table:<40} {violation.kind:<22} {violation.detail}")
    counts = Counter(violation.kind for violation in found)
    tables = {model._meta.db_table for model in models_all()}
    print(f"\n{len(tenant_tables(models_all()))} tenant tables, {len(set(REFERENCE) & tables)} reference, "
          f"{len(set(LOCAL) & tables)} local")
    print(", ".join(f"{kind}: {count}" for kind, count in sorted(counts.items())) or "no violations")
    if "--citus" in sys.argv[1:]:
        print("\n-- on the coordinator, after CREATE EXTENSION citus and citus_add_node() for each worker:")
        print("\n".join(citus_statements()))


if __name__ == "__main__":
    main()
