"""The PostgreSQL backend, told that a tenant table's primary key is not `id` alone.

Tenant tables' primary keys are (id, organization_id) in the database (tenancy/distribution.py,
docs/scaling.md: Citus needs the distribution column in every key), while the ORM still addresses
rows by `id`. Django's PostgreSQL backend groups an aggregate query by the selected models' `id`
only (`allows_group_by_selected_pks`), relying on PostgreSQL's functional dependency on a primary
key; PostgreSQL grants it only for the whole key, so `GROUP BY customer.id` with customer.name
selected fails. This backend groups by every selected column instead, as Django does on SQLite."""

from django.db.backends.postgresql import base, features


class DatabaseFeatures(features.DatabaseFeatures):
    allows_group_by_selected_pks = False


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
