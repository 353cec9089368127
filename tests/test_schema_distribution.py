"""The schema stays ready for distribution by organization_id (PostgreSQL + Citus, docs/scaling.md "At 100x"):
tenancy.distribution walks every model (auto-created many-to-many tables included) and the PostgreSQL
catalog; any tenant primary key, unique constraint or index, or foreign key to a tenant table without
organization_id, any tenant ForeignKey the database does not check with organization_id, and any table
neither tenant nor listed as reference or local fails here, naming the table and the constraint."""

import pytest
from django.db import IntegrityError, connection, transaction

from tenancy.distribution import LOCAL, REFERENCE, models_all, tenant_foreign_keys, tenant_tables, violations

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the distributed shape is PostgreSQL's"),
]


def test_the_schema_has_no_violation():
    found = violations()
    assert not found, "not distributable by organization_id:\n" + "\n".join(map(str, found))


def test_every_table_is_tenant_reference_or_local():
    tables = {model._meta.db_table for model in models_all()}
    tenant = tenant_tables(models_all())
    assert tables - {"django_migrations"} <= tenant | set(REFERENCE) | set(LOCAL)
    assert not tenant & (set(REFERENCE) | set(LOCAL))
    # The many-to-many tables are tenant tables now, each row with its organization.
    assert {"dunning_promisetopay_invoices", "dunning_paymentplan_invoices", "factoring_facility_excluded_customers",
            "insurance_policy_excluded_customers", "receivables_weeklyreportschedule_recipients"} <= tenant
    assert {"receivables_invoice", "receivables_allocation", "tenancy_auditentry"} <= tenant


def _catalog_one(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def test_tenant_keys_include_the_organization():
    primary_key = _catalog_one("""
        SELECT ARRAY(SELECT a.attname::text FROM unnest(c.conkey) k JOIN pg_attribute a
                     ON a.attrelid = c.conrelid AND a.attnum = k)
        FROM pg_constraint c WHERE c.conrelid = 'receivables_invoice'::regclass AND c.contype = 'p'""", [])[0]
    assert sorted(primary_key) == ["id", "organization_id"]
    # 84 foreign keys between tenant tables at the time of writing; each one is composite in the catalog.
    assert len(tenant_foreign_keys(models_all())) >= 84


def test_the_check_finds_a_single_column_unique_and_an_unchecked_foreign_key():
    """The check can fail: a unique key on a tenant column alone and a tenant foreign key whose composite
    constraint is gone are both named (the transaction rolls them back)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE receivables_invoice ADD CONSTRAINT invoice_number_everywhere UNIQUE (number, id)")
        cursor.execute("""SELECT conname FROM pg_constraint WHERE conrelid = 'dunning_dispute'::regclass
                          AND contype = 'f' AND conname LIKE '%%invoice_id%%org_fk'""")
        (composite,) = cursor.fetchone()
        cursor.execute(f'ALTER TABLE dunning_dispute DROP CONSTRAINT "{composite}"')
    found = {(v.table, v.kind, v.detail.split(" ")[0]) for v in violations()}
    assert ("receivables_invoice", "unique", "invoice_number_everywhere") in found
    assert ("dunning_dispute", "unchecked foreign key", "invoice_id") in found


def test_the_database_refuses_a_row_pointing_into_another_organization(organization, other_organization, customer):
    """What the composite keys buy besides distribution: a dispute of one organization cannot name
    another organization's customer, whatever the code above it does."""
    from dunning.models import CustomerDunning

    with pytest.raises(IntegrityError, match="org_fk"), transaction.atomic():
        CustomerDunning.objects.create(organization=other_organization, customer=customer)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _promise(organization, customer):
    import datetime as dt

    from dunning.models import PromiseToPay
    from tests.factories import make_invoice

    invoices = [make_invoice(organization, customer), make_invoice(organization, customer)]
    promise = PromiseToPay.objects.create(
        organization=organization, customer=customer, amount="200.00", currency="CNY", made_on=dt.date(2026, 2, 1),
        promised_date=dt.date(2026, 2, 10), pause_until=dt.date(2026, 2, 13))
    promise.invoices.set(invoices)
    return promise, invoices


def test_a_many_to_many_row_takes_its_owners_organization(organization, customer):
    """`.set()` on an explicit through model fills organization_id from the owner row."""
    from dunning.models import PromiseToPayInvoice

    promise, invoices = _promise(organization, customer)
    assert sorted(PromiseToPayInvoice.objects.values_list("invoice_id", "organization_id")) == sorted(
        (invoice.pk, organization.pk) for invoice in invoices)
    assert set(promise.invoices.all()) == set(invoices)
    promise.invoices.set(invoices[:1])
    assert list(PromiseToPayInvoice.objects.values_list("invoice_id", flat=True)) == [invoices[0].pk]


def test_the_admin_still_shows_a_many_to_many_with_an_explicit_through_model(client, admin_user, organization,
                                                                             customer):
    """The admin gives such a field no form field; tenancy.admin.ReadOnlyAdmin shows it read-only."""
    promise, invoices = _promise(organization, customer)
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    page = client.get(f"/admin/dunning/promisetopay/{promise.pk}/change/")
    assert page.status_code == 200
    assert invoices[0].number in page.content.decode()


def test_the_citus_statements_distribute_every_tenant_table_after_what_it_points_at():
    from tenancy.distribution import citus_statements

    statements = citus_statements()
    tables = [statement.split("'")[1] for statement in statements]
    reference = [t for t, s in zip(tables, statements, strict=True) if "create_reference_table" in s]
    distributed = [t for t, s in zip(tables, statements, strict=True) if "create_distributed_table" in s]
    assert tables == reference + distributed
    assert set(reference) == set(REFERENCE) and set(distributed) == tenant_tables(models_all())
    position = {table: index for index, table in enumerate(distributed)}
    for table, _column, target, _target_column in tenant_foreign_keys(models_all()):
        assert target == table or position[target] < position[table], (table, target)
