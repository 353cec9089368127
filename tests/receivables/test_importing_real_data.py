"""Import both public data sets of ../shared/data fully and check them against SOURCES.md."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count, Q, Sum

from receivables.importing.errors import ImportInvalidError
from receivables.importing.mapping import mapping_from_dict
from receivables.importing.reader import table_read
from receivables.importing.services import import_run
from receivables.models import Customer, Invoice, InvoiceStatus, Payment
from receivables.selectors import aging_report
from tenancy.models import AuditEntry
from tests.factories import MembershipFactory, OrganizationFactory

DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
MAPPINGS = Path(settings.BASE_DIR) / "docs" / "mappings"
IBM = DATA / "WA_Fn-UseC_-Accounts-Receivable.csv"
HIGHRADIUS = DATA / "highradius_2022_open_items_nulldata.csv"

pytestmark = [
    pytest.mark.skipif(not IBM.exists() or not HIGHRADIUS.exists(), reason="../shared/data is not here"),
    # Each import commits on its own, as in production: inside one test-wide transaction the
    # savepoints of every import would pile up in a single PostgreSQL transaction.
    pytest.mark.django_db(transaction=True),
]


def _import(organization, actor, path, mapping_name):
    mapping = mapping_from_dict(json.loads((MAPPINGS / mapping_name).read_text()))
    with path.open("rb") as file:
        table = table_read(file, path.name)
    return import_run(organization=organization, actor=actor, kind=mapping.kind, table=table, mapping=mapping)


@pytest.fixture
def usd_org(transactional_db):
    return OrganizationFactory(name="Data Co", slug="data-co", base_currency="USD", timezone="UTC")


@pytest.fixture
def usd_collector(usd_org):
    return MembershipFactory(organization=usd_org, role="collector").user


IBM_MAPPINGS = ("ibm_watson_customers.json", "ibm_watson_invoices.json", "ibm_watson_payments.json")


def test_ibm_file_imports_fully_every_invoice_is_paid_and_a_second_import_changes_nothing(usd_org, usd_collector):
    # when: customers, invoices, then payments from the one file
    customers, invoices, payments = (_import(usd_org, usd_collector, IBM, name) for name in IBM_MAPPINGS)

    # then: the figures of SOURCES.md
    assert (customers.created, customers.unchanged) == (100, 2366)  # one customer per customerID
    assert (invoices.created, invoices.customers_created) == (2466, 0)
    assert payments.created == 2466
    ledger = Invoice.objects.filter(organization=usd_org)
    assert ledger.aggregate(s=Sum("total_amount"))["s"] == Decimal("147703.18")
    assert ledger.filter(status=InvoiceStatus.PAID).count() == 2466
    assert Payment.objects.filter(organization=usd_org, unapplied_amount=0).count() == 2466
    # invoiceNumber is text: the 266 zero-padded numbers keep their zeros
    assert ledger.filter(number__startswith="0").count() == 266
    assert ledger.get(number="0000611365").due_date == dt.date(2013, 2, 1)
    # each payment settled its own invoice, on the settled date
    assert ledger.get(number="0007900770").allocations.get().applied_on == dt.date(2013, 3, 3)
    audit_after_first = AuditEntry.objects.filter(organization=usd_org).count()
    assert audit_after_first >= 100 + 2466 * 3  # every row went through the services

    again = [_import(usd_org, usd_collector, IBM, name) for name in IBM_MAPPINGS]

    assert [(r.created, r.updated, r.unchanged) for r in again] == [(0, 0, 2466)] * 3
    assert AuditEntry.objects.filter(organization=usd_org).count() == audit_after_first
    assert Customer.objects.filter(organization=usd_org).count() == 100


def test_highradius_open_items_import_age_as_in_sources_and_reimport_unchanged(usd_org, usd_collector):
    result = _import(usd_org, usd_collector, HIGHRADIUS, "highradius_open_items.json")

    assert (result.created, result.customers_created) == (9681, 694)
    ledger = Invoice.objects.filter(organization=usd_org)
    # converted_usd rounded half-up to cents row by row (the raw float sum is 310,427,858.97)
    assert ledger.aggregate(s=Sum("total_amount"))["s"] == Decimal("310427859.02")
    assert ledger.get(number="2960623488").total_amount == Decimal("2309.79")  # was 2309.7899999999995
    # 27 rows are due before they were posted (not_after): their issue date is the due date
    early = ledger.get(number="1930830032")  # posted 2020-04-28, due 2020-04-15
    assert (early.issue_date, early.due_date) == (dt.date(2020, 4, 15), dt.date(2020, 4, 15))
    as_of = dt.date(2020, 5, 22)
    counts = ledger.aggregate(
        current=Count("pk", filter=Q(due_date__gte=as_of)),
        d1_30=Count("pk", filter=Q(due_date__lt=as_of, due_date__gte=as_of - dt.timedelta(days=30))),
        d31_60=Count("pk", filter=Q(due_date__lt=as_of - dt.timedelta(days=30),
                                    due_date__gte=as_of - dt.timedelta(days=60))),
        d61_90=Count("pk", filter=Q(due_date__lt=as_of - dt.timedelta(days=60),
                                    due_date__gte=as_of - dt.timedelta(days=90))),
    )
    assert counts == {"current": 500, "d1_30": 3567, "d31_60": 4427, "d61_90": 1187}
    report = aging_report(usd_org, as_of)
    assert report.total == Decimal("310427859.02")
    assert report.totals[-1] == 0  # nothing is more than 90 days past due
    assert sum(row.invoice_count for row in report.rows) == 9681

    again = _import(usd_org, usd_collector, HIGHRADIUS, "highradius_open_items.json")

    assert (again.created, again.updated, again.unchanged, again.customers_created) == (0, 0, 9681, 0)


def test_highradius_without_round_option_lists_every_float_artifact(usd_org, usd_collector):
    mapping = json.loads((MAPPINGS / "highradius_open_items.json").read_text())
    mapping["columns"]["net_amount"] = "converted_usd"
    with HIGHRADIUS.open("rb") as file:
        table = table_read(file, HIGHRADIUS.name)

    with pytest.raises(ImportInvalidError) as caught:
        import_run(organization=usd_org, actor=usd_collector, kind="invoices", table=table,
                   mapping=mapping_from_dict(mapping))

    # 631 values have more than 2 decimals: the 301 with more than 4 cannot even be read as amounts, the
    # other 330 are finer than the cent (USD's ISO 4217 minor unit, issue 12) and refused too
    assert len(caught.value.errors) == 631
    first = caught.value.errors[0]
    assert (first.row, first.column) == (2, "converted_usd")
    assert first.message == "'2309.7899999999995': at most 4 decimal places."
    assert sum("USD amounts have at most 2 decimal places" in e.message for e in caught.value.errors) == 330
    assert not Invoice.objects.filter(organization=usd_org).exists()
