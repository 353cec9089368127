"""Distribution by organization (PostgreSQL + Citus, the path past one database server; docs/scaling.md).

Every table is one of three kinds:

- a **tenant** table: it has a NOT NULL `organization_id` and Citus distributes it by that column
  (`create_distributed_table`). Its primary key, every unique constraint or index and every foreign
  key to another tenant table include `organization_id`, so each row, each uniqueness check and each
  join stays on one node. In the database the primary key is `(id, organization_id)` (id first: the
  ORM still finds a row by `id` alone, and that lookup stays an index scan); every tenant foreign key
  is `(column, organization_id) -> (id, organization_id)`, DEFERRABLE INITIALLY DEFERRED as Django's
  own are, which also makes the database refuse a row pointing into another organization.
- a **reference** table (`REFERENCE`): small, read everywhere, copied whole to every node
  (`create_reference_table`). A tenant table may point at it; it never points at a tenant table.
- a **local** table (`LOCAL`): stays on the coordinator alone (sessions, sign-in throttling, the
  embedded mail outbox). Tenant tables never point at it; it points at reference tables only.

The ORM keeps `id` as each model's primary key (Django's CompositePrimaryKey cannot be the target of
a ForeignKey), so the composite keys live in the database: tenant-to-tenant ForeignKeys are
declared with `db_constraint=False` (`tenancy.distribution.TenantForeignKey`) and `converge()` (run by
the migration that adds a tenant table or a tenant foreign key) makes the primary key and the
composite foreign keys. `violations()` is the check: tests/test_schema_distribution.py fails on any,
`python -m bench.schema_check` lists them. On the embedded SQLite default, the backend
`tenancy.sqlite3` declares the same composite keys in each CREATE TABLE instead (docs/scaling.md)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

APPS = ("tenancy", "receivables", "credit", "dunning", "factoring", "insurance", "forecasting")

# Copied whole to every node. Why each one is not distributed:
REFERENCE = {
    "tenancy_organization": "the tenants themselves; every tenant table points at it",
    "tenancy_userprofile": "per user, not per organization (UI language); read with the user",
    "tenancy_apikey": "an API request is authenticated by its key's prefix before the organization is known, "
                      "so prefix and secret hash are unique across organizations; a few keys per organization, "
                      "written when one is made or revoked and last_used_at at most once a minute per key",
    "auth_user": "a user may belong to several organizations (tenancy_membership is per organization)",
    "auth_group": "Django's permissions: global",
    "auth_permission": "Django's permissions: global",
    "auth_group_permissions": "Django's permissions: global",
    "auth_user_groups": "Django's permissions: global",
    "auth_user_user_permissions": "Django's permissions: global",
    "django_content_type": "Django's model registry: global",
}

# On the coordinator only. Why each one is not distributed:
LOCAL = {
    "django_session": "sessions, found by their key before the organization is known",
    "django_admin_log": "support staff's admin history, across organizations",
    "django_migrations": "Django's own migration record",
    "axes_accessattempt": "sign-in throttling, per user name and address, before any organization",
    "axes_accessattemptexpiration": "sign-in throttling",
    "axes_accessfailurelog": "sign-in throttling",
    "axes_accesslog": "sign-in throttling",
    "tenancy_outboxmessage": "the embedded mail outbox (EMAIL_URL=outbox:, the no-configuration default); production "
                             "sends over SMTP and leaves it empty; a sign-in mail has no organization",
}

ORGANIZATION = "organization_id"


class _NoSingleColumnConstraint:
    """Django makes no foreign-key constraint for the field (a single-column one needs `id` unique on
    its own, which a distributed table cannot have); `converge()` makes the composite one."""

    def __init__(self, *args, **kwargs):
        kwargs["db_constraint"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("db_constraint", None)
        return name, path, args, kwargs


class TenantForeignKey(_NoSingleColumnConstraint, models.ForeignKey):
    """A ForeignKey from a tenant table to another tenant table: in the database,
    `(column, organization_id) -> (id, organization_id)`, made by the migration's `converge()`."""


class TenantOneToOneField(_NoSingleColumnConstraint, models.OneToOneField):
    """TenantForeignKey's one-to-one. Django still makes the column UNIQUE (the ORM needs `unique` for
    reverse select_related); `converge()` widens that constraint to `(column, organization_id)` under
    the same name: the same rows are allowed, since the composite key ties both to one organization."""


class TenantLinkQuerySet(models.QuerySet):
    """The manager of a many-to-many's explicit through model (a tenant table, so it carries
    organization_id): `.add()` and `.set()` bulk-create its rows without one, so each takes its
    owner's. The model names its owner in `owner_field`."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        owner = self.model._meta.get_field(self.model.owner_field)
        owners = {getattr(obj, owner.attname) for obj in objs if obj.organization_id is None}
        if owners:
            organizations = dict(owner.related_model._base_manager.using(self.db).filter(pk__in=owners)
                                 .values_list("pk", "organization_id"))
            for obj in objs:
                if obj.organization_id is None:
                    obj.organization_id = organizations[getattr(obj, owner.attname)]
        return super().bulk_create(objs, *args, **kwargs)


class TenantLink(models.Model):
    """Base of a many-to-many's explicit through model. Subclasses declare the owner and target
    foreign keys, name the owner in `owner_field`, and keep their table (`Meta.db_table`)."""

    organization = models.ForeignKey("tenancy.Organization", on_delete=models.CASCADE, related_name="+")

    owner_field: str
    objects = TenantLinkQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        owner, target = (field for field in self._meta.concrete_fields
                         if field.is_relation and field.name != "organization")
        return f"{getattr(self, owner.attname)} -> {getattr(self, target.attname)}"


@dataclass(frozen=True)
class Violation:
    table: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.table}: {self.kind}: {self.detail}"


def models_all(apps=None) -> list:
    """Every concrete managed model of every installed app, with the auto-created M2M tables."""
    if apps is None:
        from django.apps import apps
    return [model for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy]


def _has_organization(model) -> bool:
    return any(getattr(field, "column", None) == ORGANIZATION for field in model._meta.concrete_fields)


def tenant_tables(models) -> set[str]:
    """Tables distributed by organization_id: every model with the column, less the listed exceptions."""
    return {model._meta.db_table for model in models if _has_organization(model)} - set(REFERENCE) - set(LOCAL)


def tenant_foreign_keys(models) -> list[tuple[str, str, str, str]]:
    """(table, column, referenced table, referenced column) of every ForeignKey/OneToOneField from a
    tenant table to another tenant table, as the models declare them."""
    tenant = tenant_tables(models)
    found = []
    for model in models:
        table = model._meta.db_table
        if table not in tenant:
            continue
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.column == ORGANIZATION:
                continue
            target = field.related_model._meta.db_table
            if target in tenant:
                found.append((table, field.column, target, field.target_field.column))
    return found


def _tenant_one_to_one(models, tenant: set[str]) -> set[tuple[str, str]]:
    """(table, column) of the one-to-one fields between tenant tables."""
    return {(model._meta.db_table, field.column) for model in models if model._meta.db_table in tenant
            for field in model._meta.concrete_fields
            if field.one_to_one and field.column != ORGANIZATION and field.related_model._meta.db_table in tenant}


def _catalog(cursor) -> tuple[dict, list, list]:
    """From pg_catalog, for the tables of the current schema: {table: {column: not null}}, constraints
    (table, name, kind, referenced table, columns, referenced columns, deferred) and unique indexes
    that back no constraint (table, name, columns)."""
    cursor.execute("""
        SELECT c.relname, a.attname, a.attnotnull FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid) AND a.attnum > 0 AND NOT a.attisdropped""")
    columns: dict[str, dict[str, bool]] = {}
    for table, column, not_null in cursor.fetchall():
        columns.setdefault(table, {})[column] = not_null
    cursor.execute("""
        SELECT c.relname, con.conname, con.contype, f.relname,
               ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
               ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i),
               con.condeferrable AND con.condeferred
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        LEFT JOIN pg_class f ON f.oid = con.confrelid
        WHERE con.contype IN ('p', 'u', 'f', 'x') AND pg_table_is_visible(c.oid)
        ORDER BY 1, 2""")
    constraints = cursor.fetchall()
    cursor.execute("""
        SELECT t.relname, i.relname, ARRAY(SELECT a.attname::text FROM unnest(x.indkey) k JOIN pg_attribute a
                                           ON a.attrelid = x.indrelid AND a.attnum = k)
        FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indisunique AND pg_table_is_visible(t.oid)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid)
        ORDER BY 1, 2""")
    return columns, constraints, cursor.fetchall()


def _composite_covers(constraint, column: str, target: str, target_column: str) -> bool:
    """Whether a catalog foreign key is (column, organization_id) -> target (target_column, organization_id),
    possibly with more column pairs (receivables' keys also match the currency), deferred like Django's."""
    _table, _name, kind, referenced, columns, ref_columns, deferred = constraint
    if kind != "f" or referenced != target or not deferred:
        return False
    pairs = set(zip(columns, ref_columns, strict=True))
    return (column, target_column) in pairs and (ORGANIZATION, ORGANIZATION) in pairs


def violations(connection=None, models=None) -> list[Violation]:
    """Everything that would stop Citus from distributing the schema by organization_id, or that
    leaves a tenant foreign key unchecked by the database. Walks the models (auto-created M2M tables
    included) and the PostgreSQL catalog."""
    if connection is None:
        from django.db import connection
    if models is None:
        models = models_all()
    found: list[Violation] = []
    by_table = {model._meta.db_table: model for model in models}
    tenant = tenant_tables(models)
    for listed in sorted((set(REFERENCE) | set(LOCAL)) - set(by_table) - {"django_migrations"}):
        found.append(Violation(listed, "listed", "in REFERENCE or LOCAL but no model has this table"))
    for table, model in sorted(by_table.items()):
        if table in tenant:
            field = next(f for f in model._meta.concrete_fields if getattr(f, "column", None) == ORGANIZATION)
            if field.null:
                found.append(Violation(table, "organization_id", "nullable: Citus needs a value in every row"))
        elif table not in REFERENCE and table not in LOCAL:
            found.append(Violation(table, "no organization_id", "not a tenant table and not listed in "
                                                                "tenancy.distribution REFERENCE or LOCAL"))
        for field in model._meta.concrete_fields:
            if field.is_relation and field.column != ORGANIZATION:
                target = field.related_model._meta.db_table
                if target in tenant and table not in tenant:
                    found.append(Violation(table, "foreign key", f"{field.column} -> {target}: a reference or "
                                                                 f"local table cannot point at a tenant table"))
                elif target in LOCAL and table not in LOCAL:
                    found.append(Violation(table, "foreign key", f"{field.column} -> {target}: a local table "
                                                                 f"can only be pointed at from the coordinator"))
    with connection.cursor() as cursor:
        columns, constraints, unique_indexes = _catalog(cursor)
    for table in sorted(tenant):
        if not columns.get(table, {}).get(ORGANIZATION):
            found.append(Violation(table, "organization_id", "missing or nullable in the database"))
    for constraint in constraints:
        table, name, kind, referenced, cols, _ref_cols, _deferred = constraint
        if table not in tenant:
            continue
        if kind in "pux" and ORGANIZATION not in cols:
            label = {"p": "primary key", "u": "unique", "x": "exclusion"}[kind]
            found.append(Violation(table, label, f"{name} ({', '.join(cols)})"))
        elif kind == "f" and referenced in tenant and ORGANIZATION not in cols:
            found.append(Violation(table, "foreign key", f"{name} ({', '.join(cols)}) -> {referenced}"))
    for table, name, cols in unique_indexes:
        if table in tenant and ORGANIZATION not in cols:
            found.append(Violation(table, "unique index", f"{name} ({', '.join(cols)})"))
    for table, column, target, target_column in tenant_foreign_keys(models):
        if not any(con[0] == table and _composite_covers(con, column, target, target_column) for con in constraints):
            found.append(Violation(table, "unchecked foreign key",
                                   f"{column} -> {target}: no ({column}, organization_id) -> "
                                   f"({target_column}, organization_id) constraint, deferrable initially deferred"))
    return found


def citus_statements(models=None) -> list[str]:
    """The statements that distribute this schema on a Citus cluster, in an order Citus accepts:
    reference tables first (distributed tables point at them), then each tenant table after the
    tenant tables it points at, colocated with the first so one organization's rows of every table
    share a node. Local tables need nothing: they stay on the coordinator."""
    if models is None:
        models = models_all()
    tables = {model._meta.db_table for model in models}
    tenant = tenant_tables(models)
    after: dict[str, set[str]] = {table: set() for table in tenant}
    for table, _column, target, _target_column in tenant_foreign_keys(models):
        if target != table:
            after[table].add(target)
    ordered: list[str] = []
    while after:
        ready = sorted(table for table, targets in after.items() if not targets - set(ordered))
        if not ready:
            raise ValueError(f"foreign keys between tenant tables form a cycle: {sorted(after)}")
        ordered.extend(ready)
        for table in ready:
            del after[table]
    statements = [f"SELECT create_reference_table('{table}');" for table in sorted(set(REFERENCE) & tables)]
    first = ordered[0]
    statements.append(f"SELECT create_distributed_table('{first}', '{ORGANIZATION}');")
    statements += [f"SELECT create_distributed_table('{table}', '{ORGANIZATION}', colocate_with => '{first}');"
                   for table in ordered[1:]]
    return statements


def link_organization_fill(app_label: str, model_name: str, owner_field: str):
    """A RunPython step for the migration that turns an auto-created many-to-many table into an explicit
    through model: fill the new organization_id of each row from its owner row."""

    def fill(apps, schema_editor):
        from django.db.models import OuterRef, Subquery

        link = apps.get_model(app_label, model_name)
        owner = link._meta.get_field(owner_field).related_model
        link._base_manager.using(schema_editor.connection.alias).update(organization_id=Subquery(
            owner._base_manager.filter(pk=OuterRef(owner_field)).values("organization_id")[:1]))
        if schema_editor.connection.vendor == "postgresql":
            # The deferred checks of these updates fire now: PostgreSQL refuses to ALTER a table (the
            # next operation makes the column NOT NULL) with trigger events still pending.
            schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")

    return fill


FOREIGN_KEY_SUFFIX = "_org_fk"


def converge(apps, schema_editor) -> None:
    """Bring the PostgreSQL schema to the rules above for the models as this migration sees them
    (idempotent: a migration that adds a tenant table or a tenant foreign key runs it again):
    Django's single-column keys between tenant tables dropped, each tenant primary key made
    `(id, organization_id)`, a one-to-one's unique column widened with organization_id, and the
    composite foreign key made for every tenant ForeignKey. Nothing on SQLite, where tenancy.sqlite3's
    schema editor declares the keys when it creates a table (docs/scaling.md)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    models_ = models_all(apps)
    tenant = tenant_tables(models_)
    one_to_one = _tenant_one_to_one(models_, tenant)
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        _columns, constraints, _indexes = _catalog(cursor)
    for table, name, kind, referenced, cols, _ref_cols, _deferred in constraints:
        if table in tenant and ORGANIZATION not in cols and kind == "f" and referenced in tenant:
            schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    for table, name, kind, _referenced, cols, _ref_cols, _deferred in constraints:
        if table not in tenant or ORGANIZATION in cols:
            continue
        if kind == "p":
            keys = ", ".join(quote(col) for col in [*cols, ORGANIZATION])
            schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}, "
                                  f"ADD CONSTRAINT {quote(name)} PRIMARY KEY ({keys})")
        elif kind == "u" and len(cols) == 1 and (table, cols[0]) in one_to_one:
            schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}, "
                                  f"ADD CONSTRAINT {quote(name)} UNIQUE ({quote(cols[0])}, {ORGANIZATION})")
    for table, column, target, target_column in tenant_foreign_keys(models_):
        if any(con[0] == table and _composite_covers(con, column, target, target_column) for con in constraints):
            continue
        name = schema_editor._create_index_name(table, [column, ORGANIZATION], suffix=FOREIGN_KEY_SUFFIX)
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} FOREIGN KEY ({quote(column)}, {ORGANIZATION}) "
            f"REFERENCES {quote(target)} ({quote(target_column)}, {ORGANIZATION}) DEFERRABLE INITIALLY DEFERRED")


def diverge(apps, schema_editor) -> None:
    """converge() undone, for migrating backwards: the composite foreign keys it made dropped, primary
    keys and one-to-one uniques back to their single column (the reversed AlterFields then give
    Django's single-column foreign keys back)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    models_ = models_all(apps)
    tenant = tenant_tables(models_)
    one_to_one = _tenant_one_to_one(models_, tenant)
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        _columns, constraints, _indexes = _catalog(cursor)
    for table, name, kind, *_rest in constraints:
        if table in tenant and kind == "f" and name.endswith(FOREIGN_KEY_SUFFIX):
            schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    for table, name, kind, _referenced, cols, _ref_cols, _deferred in constraints:
        if table not in tenant or len(cols) != 2 or cols[1] != ORGANIZATION:
            continue
        if kind == "p":
            schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}, "
                                  f"ADD CONSTRAINT {quote(name)} PRIMARY KEY ({quote(cols[0])})")
        elif kind == "u" and (table, cols[0]) in one_to_one:
            schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}, "
                                  f"ADD CONSTRAINT {quote(name)} UNIQUE ({quote(cols[0])})")
