"""Distribution by organization_id on PostgreSQL (tenancy.distribution, docs/scaling.md "At 100x"): every
tenant table's primary key becomes (id, organization_id), a tenant one-to-one's unique column is widened
with organization_id, and every foreign key between tenant tables becomes (column, organization_id) ->
(id, organization_id), deferrable like Django's, in place of the single-column keys the previous
migrations stopped Django from making. SQLite (the embedded default) is left as it is.

It lives in forecasting, the top layer, because it needs every app's tables in their final shape (a
primary key can only change once no foreign key of any app points at it), and forecasting is the one
app that may depend on all the others (DESIGN.md's layers). A later migration that adds a tenant table
or a tenant foreign key runs `tenancy.distribution.converge` again; tests/test_schema_distribution.py
fails until it does."""

from django.db import migrations

import tenancy.distribution


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0009_distribution_keys"),
        ("receivables", "0014_distribution_keys"),
        ("credit", "0006_distribution_keys"),
        ("dunning", "0007_distribution_keys"),
        ("factoring", "0004_distribution_keys"),
        ("insurance", "0004_distribution_keys"),
        ("forecasting", "0006_distribution_keys"),
    ]

    operations = [migrations.RunPython(tenancy.distribution.converge, tenancy.distribution.diverge)]
