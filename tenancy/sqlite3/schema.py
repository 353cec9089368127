"""The SQLite schema editor of `tenancy.sqlite3`: tenant foreign keys checked with the organization.

For a tenant table (tenancy.distribution: an `organization_id`, not REFERENCE or LOCAL) the CREATE
TABLE gains:

- `UNIQUE (id, organization_id)`, the parent key of the composite foreign keys: SQLite needs a
  referenced column list to be the primary key or to carry a UNIQUE index (`id` stays the rowid, the
  primary key the ORM uses). Not for the tables keyed by `organization_id` alone (nothing points at them),
  nor where the model declares that unique constraint itself;
- for each relation to another tenant table (`TenantForeignKey`, `TenantOneToOneField`: declared
  `db_constraint=False`), `FOREIGN KEY (column, organization_id) REFERENCES target (id, organization_id)
  DEFERRABLE INITIALLY DEFERRED`, named as `converge()` names it on PostgreSQL. As there, a row must
  point at a row that exists and belongs to its own organization, checked at commit.

Django's SQLite editor makes every table change by building the table anew through `create_model`
(`_remake_table`), so the keys survive every later migration. The one change it makes in place,
ALTER TABLE ADD COLUMN, is turned into a rebuild when the column is a tenant relation or makes the
table a tenant table (`organization_id`). Not handled: tenant tables that already point at a table
when it becomes a tenant table stay unchecked until they are rebuilt (tests/test_sqlite_foreign_keys.py
fails, naming them; the migration that adds the column can rebuild them as tenancy/0010 does)."""

from django.db import models
from django.db.backends.sqlite3 import schema
from django.db.backends.utils import strip_quotes

# tenancy.distribution's names, copied: importing it here would import its abstract models while the
# backend loads (a circular import); tests/test_sqlite_foreign_keys.py checks they still agree.
ORGANIZATION = "organization_id"
FOREIGN_KEY_SUFFIX = "_org_fk"
PARENT_KEY_SUFFIX = "_org_key"
REBUILT_PREFIX = "new__"  # the name _remake_table gives the table it builds


def table_name(model) -> str:
    """The table's lasting name (without _remake_table's temporary prefix)."""
    table = strip_quotes(model._meta.db_table)
    return table.removeprefix(REBUILT_PREFIX)


def is_tenant(model) -> bool:
    from tenancy.distribution import LOCAL, REFERENCE  # at call time: see above

    return (table_name(model) not in REFERENCE and table_name(model) not in LOCAL
            and any(getattr(field, "column", None) == ORGANIZATION for field in model._meta.local_concrete_fields))


def has_parent_key(model) -> bool:
    """Whether a tenant table carries UNIQUE (pk, organization_id): all but those keyed by organization_id."""
    return is_tenant(model) and model._meta.pk.column != ORGANIZATION


def declares_parent_key(model) -> bool:
    """Whether the model declares that UNIQUE itself (receivables' customer_org_id_unique): no second index."""
    wanted = {model._meta.pk.column, ORGANIZATION}
    return any(isinstance(constraint, models.UniqueConstraint) and constraint.fields and not constraint.condition
               and not constraint.include and not constraint.deferrable
               and {model._meta.get_field(name).column for name in constraint.fields} == wanted
               for constraint in model._meta.constraints)


def is_tenant_relation(model, field) -> bool:
    """Whether a field of the model points from a tenant table at another one (the organization aside)."""
    return (field.concrete and field.is_relation and not field.many_to_many and field.column != ORGANIZATION
            and is_tenant(model) and has_parent_key(field.related_model))


def tenant_relations(model) -> list:
    """The fields of a tenant table that point at another tenant table."""
    return [field for field in model._meta.local_concrete_fields if is_tenant_relation(model, field)]


def parent_key_name(editor, model) -> str:
    return editor._create_index_name(table_name(model), [model._meta.pk.column, ORGANIZATION],
                                     suffix=PARENT_KEY_SUFFIX)


def foreign_key_name(editor, model, field) -> str:
    return editor._create_index_name(table_name(model), [field.column, ORGANIZATION], suffix=FOREIGN_KEY_SUFFIX)


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def tenant_key_sql(self, model) -> list[str]:
        """The table constraints this editor adds to a model's CREATE TABLE."""
        quote = self.quote_name
        sql = []
        if has_parent_key(model) and not declares_parent_key(model):
            sql.append(f"CONSTRAINT {quote(parent_key_name(self, model))} "
                       f"UNIQUE ({quote(model._meta.pk.column)}, {quote(ORGANIZATION)})")
        for field in tenant_relations(model):
            target = field.related_model
            if table_name(target) != table_name(model) and not self.parent_key_ready(table_name(target)):
                continue  # an old database's parent not rebuilt yet: tenancy/0010 adds this key after it
            sql.append(f"CONSTRAINT {quote(foreign_key_name(self, model, field))} "
                       f"FOREIGN KEY ({quote(field.column)}, {quote(ORGANIZATION)}) "
                       f"REFERENCES {quote(table_name(target))} ({quote(field.target_field.column)}, "
                       f"{quote(ORGANIZATION)}) DEFERRABLE INITIALLY DEFERRED")
        return sql

    def parent_key_ready(self, table: str) -> bool:
        """Whether a composite key may point at `table`: it does not exist yet (this editor will create it
        with its UNIQUE (id, organization_id)) or it has that UNIQUE. A key to a table without it would
        make SQLite refuse every statement on the child ("foreign key mismatch"), e.g. while the
        migrations before tenancy/0010 rebuild tables of a database made before this backend."""
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
            if cursor.fetchone() is None:
                return True
            cursor.execute(f'PRAGMA index_list("{table}")')
            for index in cursor.fetchall():
                if index[2] and not index[4]:  # unique, not partial
                    cursor.execute(f'PRAGMA index_info("{index[1]}")')
                    if {row[2] for row in cursor.fetchall()} == {"id", ORGANIZATION}:
                        return True
        return False

    def table_sql(self, model):
        sql, params = super().table_sql(model)
        extra = self.tenant_key_sql(model)
        if extra:
            if not sql.endswith(")"):
                raise ValueError(f"unexpected CREATE TABLE for {model._meta.db_table}: {sql[-80:]}")
            sql = f"{sql[:-1]}, {', '.join(extra)})"
        return sql, params

    def add_field(self, model, field):
        # ALTER TABLE ADD COLUMN cannot add a table constraint: rebuild the table instead. `model` is
        # the table before the change (without the field).
        if field.concrete and (field.column == ORGANIZATION or is_tenant_relation(model, field)):
            self._remake_table(model, create_field=field)
        else:
            super().add_field(model, field)


def missing_keys(cursor, models) -> list[tuple[str, str]]:
    """The keys this editor makes that the SQLite database behind `cursor` lacks, for the given models:
    a tenant table's UNIQUE (id, organization_id) and each tenant relation's composite foreign key, as
    (table, what is missing). Empty when the database checks every tenant foreign key with its organization."""

    def rows(sql):
        cursor.execute(sql)
        return cursor.fetchall()

    found = []
    for model in models:
        table = table_name(model)
        if has_parent_key(model):
            keys = [{row[2] for row in rows(f'PRAGMA index_info("{index[1]}")')}
                    for index in rows(f'PRAGMA index_list("{table}")') if index[2] and not index[4]]
            if {model._meta.pk.column, ORGANIZATION} not in keys:
                found.append((table, f"no UNIQUE ({model._meta.pk.column}, {ORGANIZATION})"))
        foreign_keys: dict[int, tuple[str, set]] = {}
        for key_id, _seq, target, column, target_column, *_rest in rows(f'PRAGMA foreign_key_list("{table}")'):
            foreign_keys.setdefault(key_id, (target, set()))[1].add((column, target_column))
        for field in tenant_relations(model):
            target = table_name(field.related_model)
            wanted = {(field.column, field.target_field.column), (ORGANIZATION, ORGANIZATION)}
            if not any(key_target == target and wanted <= pairs for key_target, pairs in foreign_keys.values()):
                found.append((table, f"no FOREIGN KEY ({field.column}, {ORGANIZATION}) -> "
                                     f"{target} ({field.target_field.column}, {ORGANIZATION})"))
    return found
