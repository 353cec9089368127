"""On SQLite (the embedded default of `make run`) the database checks tenant foreign keys as PostgreSQL's
does (tenancy.sqlite3, docs/scaling.md): a row must point at a row that exists and belongs to its own
organization, checked at commit. One database built by `manage.py migrate` in a temporary directory, for
the whole module (the migrations take 45-100 s on this machine; everything else is quick)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import IntegrityError, connections, transaction
from django.db.backends.sqlite3.schema import DatabaseSchemaEditor as DjangoSchemaEditor

from tenancy import distribution
from tenancy.sqlite3 import schema
from tenancy.sqlite3.schema import missing_keys

ROOT = Path(__file__).resolve().parent.parent
ALIAS = "sqlite_tenant_keys"


def _migrate(database: Path) -> None:
    env = {key: value for key, value in os.environ.items()
           if key not in {"REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env["DATABASE_URL"] = f"sqlite:///{database}"
    result = subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "--verbosity", "0", "--skip-checks"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "db.sqlite3"
    _migrate(path)
    return path


def _connect(database: Path):
    """A connection alias of this process to an SQLite file, through the tenancy.sqlite3 backend."""
    configured = connections.configure_settings({"default": dict(connections.settings["default"]),
                                                 ALIAS: {"ENGINE": "tenancy.sqlite3", "NAME": str(database)}})
    connections.settings[ALIAS] = configured[ALIAS]
    return connections[ALIAS]


def _disconnect():
    connections[ALIAS].close()
    del connections[ALIAS]
    del connections.settings[ALIAS]


@pytest.fixture
def sqlite_db(database, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            yield _connect(database)
        finally:
            _disconnect()


def _rows(connection, sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_backend_names_agree_with_tenancy_distribution():
    assert schema.ORGANIZATION == distribution.ORGANIZATION
    assert schema.FOREIGN_KEY_SUFFIX == distribution.FOREIGN_KEY_SUFFIX


def test_every_tenant_foreign_key_of_every_model_has_its_composite_key(sqlite_db):
    """Walks the models as tenancy.distribution does (auto-created many-to-many tables included), so a
    model added later cannot escape; and `PRAGMA foreign_key_check` finds nothing after the migrations."""
    models = distribution.models_all()
    with sqlite_db.cursor() as cursor:
        missing = missing_keys(cursor, models)
    assert not missing, "tenant keys missing on SQLite:\n" + "\n".join(f"{table}: {what}" for table, what in missing)

    # The same foreign keys as tenancy.distribution counts for PostgreSQL: the backend agrees on which
    # tables are tenant tables. Each one composite with organization_id, to (id, organization_id).
    wanted = {(table, column, target) for table, column, target, _target_column in
              distribution.tenant_foreign_keys(models)}
    assert len(wanted) >= 93
    composite = set()
    for table in distribution.tenant_tables(models):
        keys = {}
        for key_id, _seq, target, column, target_column, *_rest in _rows(sqlite_db, f'PRAGMA foreign_key_list("{table}")'):
            keys.setdefault(key_id, (target, []))[1].append((column, target_column))
        composite |= {(table, pairs[0][0], target) for target, pairs in keys.values()
                      if len(pairs) == 2 and pairs[1] == ("organization_id", "organization_id")}
    assert composite == wanted
    sql = _rows(sqlite_db, "SELECT sql FROM sqlite_master WHERE name = 'dunning_dispute'")[0][0]
    assert ('FOREIGN KEY ("invoice_id", "organization_id") REFERENCES "receivables_invoice" ("id", "organization_id") '
            "DEFERRABLE INITIALLY DEFERRED") in sql

    assert _rows(sqlite_db, "PRAGMA foreign_key_check") == []
    assert _rows(sqlite_db, "PRAGMA foreign_keys") == [(1,)]


def _organization(slug):
    from tenancy.models import Organization

    return Organization.objects.using(ALIAS).create(name=slug.title(), slug=slug)


def _customer(organization, name="Customer"):
    from receivables.models import Customer

    return Customer.objects.using(ALIAS).create(organization=organization, name=name, currency="CNY")


def test_the_database_refuses_missing_and_foreign_rows_and_accepts_valid_ones(sqlite_db):
    from dunning.models import CustomerDunning

    acme, rival = _organization("acme"), _organization("rival")
    customer = _customer(acme)

    # (a) a row pointing at a row that does not exist
    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
        CustomerDunning.objects.using(ALIAS).create(organization=acme, customer_id=customer.pk + 1000)
    # (b) a row pointing at another organization's row
    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
        CustomerDunning.objects.using(ALIAS).create(organization=rival, customer=customer)
    # ... also through an update
    dunning = CustomerDunning.objects.using(ALIAS).create(organization=acme, customer=customer)
    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
        CustomerDunning.objects.using(ALIAS).filter(pk=dunning.pk).update(organization=rival)
    # (c) valid rows are accepted, and the check runs at commit (DEFERRABLE INITIALLY DEFERRED, like
    # Django's and PostgreSQL's): a row may be written before the row it points at, in one transaction.
    with transaction.atomic(using=ALIAS):
        ahead = CustomerDunning.objects.using(ALIAS).create(organization=rival, customer_id=customer.pk + 1)
        later = _customer(rival, "Later")
    assert (ahead.customer_id, ahead.organization_id) == (later.pk, later.organization_id)
    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"), transaction.atomic(using=ALIAS):
        CustomerDunning.objects.using(ALIAS).create(organization=acme, customer_id=customer.pk + 1000)
    # A parent still pointed at cannot go; deleting both in one transaction can.
    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
        _rows(sqlite_db, "DELETE FROM receivables_customer WHERE id = %s", [later.pk])
    with transaction.atomic(using=ALIAS):
        later.delete(using=ALIAS)
    assert not CustomerDunning.objects.using(ALIAS).filter(pk=ahead.pk).exists()
    assert _rows(sqlite_db, "PRAGMA foreign_key_check") == []


def test_the_check_names_a_table_without_its_keys():
    """missing_keys can fail: a dunning_dispute without the composite keys, and a customer table without
    a unique (id, organization_id) (its children's keys would make SQLite refuse every write)."""
    from dunning.models import Dispute
    from receivables.models import Customer

    memory = sqlite3.connect(":memory:")
    memory.execute("CREATE TABLE dunning_dispute (id integer PRIMARY KEY, organization_id bigint, "
                   "invoice_id bigint, customer_id bigint, owner_id integer)")
    memory.execute("CREATE TABLE receivables_customer (id integer PRIMARY KEY, organization_id bigint)")
    found = missing_keys(memory.cursor(), [Dispute, Customer])
    assert ("dunning_dispute", "no UNIQUE (id, organization_id)") in found
    assert ("dunning_dispute", "no FOREIGN KEY (invoice_id, organization_id) -> receivables_invoice "
                               "(id, organization_id)") in found
    assert ("dunning_dispute", "no FOREIGN KEY (customer_id, organization_id) -> receivables_customer "
                               "(id, organization_id)") in found
    assert ("receivables_customer", "no UNIQUE (id, organization_id)") in found
    assert not any("owner_id" in what for _table, what in found)  # auth_user is a reference table


def test_a_database_migrated_before_the_backend_gets_its_keys(database, tmp_path, django_db_blocker):
    """tenancy/0010 gives the keys to a database made without them: here every tenant table rebuilt by
    Django's own SQLite editor, which leaves them out, as a database migrated before tenancy.sqlite3 is."""
    old = tmp_path / "old.sqlite3"
    with sqlite3.connect(database) as source, sqlite3.connect(old) as target:
        source.backup(target)
    models = distribution.models_all()
    tenant = [model for model in models if model._meta.db_table in distribution.tenant_tables(models)]
    with django_db_blocker.unblock():
        try:
            connection = _connect(old)
            with DjangoSchemaEditor(connection) as editor:
                for model in tenant:
                    editor._remake_table(model)
            _rows(connection, "DELETE FROM django_migrations WHERE app = 'tenancy' "
                              "AND name = '0010_sqlite_tenant_foreign_keys'")
            with connection.cursor() as cursor:
                before = missing_keys(cursor, models)
            assert len([what for _table, what in before if "FOREIGN KEY" in what]) >= 93
            connection.close()

            _migrate(old)
            with connection.cursor() as cursor:
                assert missing_keys(cursor, models) == []
            assert _rows(connection, "PRAGMA foreign_key_check") == []
        finally:
            _disconnect()


STOCK_MIGRATE = """
import sys
import config.settings as project  # before django.setup(): its DATABASES are the ones read
project.DATABASES["default"]["ENGINE"] = "django.db.backends.sqlite3"  # Django's own editor, no tenant keys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", "tenancy", "0008", verbosity=0, skip_checks=True)
"""


def test_a_database_made_by_djangos_own_backend_migrates_on_to_the_keys(tmp_path, django_db_blocker):
    """A demo database from before the backend (migrated by Django's SQLite editor up to tenancy/0008),
    then `migrate` with tenancy.sqlite3: the part-5 migrations rebuild tables of it before tenancy/0010,
    which must not point keys at parents without their unique key (SQLite: "foreign key mismatch")."""
    old = tmp_path / "stock.sqlite3"
    env = {key: value for key, value in os.environ.items()
           if key not in {"REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env["DATABASE_URL"] = f"sqlite:///{old}"
    result = subprocess.run([sys.executable, "-c", STOCK_MIGRATE], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    _migrate(old)
    models = distribution.models_all()
    with django_db_blocker.unblock():
        try:
            connection = _connect(old)
            with connection.cursor() as cursor:
                assert missing_keys(cursor, models) == []
            assert _rows(connection, "PRAGMA foreign_key_check") == []
        finally:
            _disconnect()
