"""The importer: strict parsing, every error with row and column, all-or-nothing upserts."""

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from receivables.importing.errors import ImportInvalidError
from receivables.importing.mapping import mapping_from_dict
from receivables.importing.parsing import CellError, amount_parse, date_parse
from receivables.importing.progress import progress_get
from receivables.importing.reader import table_read
from receivables.importing.services import import_job_run, import_run
from receivables.models import Customer, ImportJob, ImportStatus, Invoice, InvoiceStatus, Payment
from tenancy.errors import ErrorCode, PermissionDenied
from tenancy.models import AuditEntry
from tests.factories import CustomerFactory, make_invoice, make_payment

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"


def _mapping(name, **changes):
    data = json.loads((FIXTURES / name).read_text())
    data.update(changes)
    return mapping_from_dict(data)


def _table(name=None, text=None):
    data = (FIXTURES / name).read_bytes() if name else text.encode()
    return table_read(io.BytesIO(data), name or "inline.csv")


def _run(organization, actor, csv_name, mapping_name, **kwargs):
    mapping = _mapping(mapping_name)
    return import_run(organization=organization, actor=actor, kind=mapping.kind, table=_table(csv_name),
                      mapping=mapping, **kwargs)


@pytest.fixture
def c001(organization):
    return CustomerFactory(organization=organization, external_id="C-001", name="Shanghai East Trading", currency="CNY")


# --- parsing -------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "separator", "expected"), [
    ("1234.5", ".", Decimal("1234.5")),
    ("1,234,567.89", ".", Decimal("1234567.89")),
    ("1 234.50", ".", Decimal("1234.50")),
    ("1.234.567,89", ",", Decimal("1234567.89")),
    ("12,5", ",", Decimal("12.5")),
    ("0.1234", ".", Decimal("0.1234")),
])
def test_amounts_read_as_decimal_with_either_separator(raw, separator, expected):
    value = amount_parse(raw, separator)
    assert value == expected
    assert isinstance(value, Decimal)


@pytest.mark.parametrize(("raw", "separator", "message"), [
    ("12a.00", ".", "'12a.00' is not an amount with '.' as the decimal separator."),
    ("1,23.00", ".", "'1,23.00' is not an amount with '.' as the decimal separator."),
    ("1.234,50", ".", "'1.234,50' is not an amount with '.' as the decimal separator."),
    ("-5.00", ".", "'-5.00' is negative; amounts must be zero or more."),
    ("(5.00)", ".", "'(5.00)' is negative; amounts must be zero or more."),
    ("10.12345", ".", "'10.12345': at most 4 decimal places."),
    ("1e5", ".", "'1e5' is not an amount with '.' as the decimal separator."),
])
def test_bad_amounts_are_errors(raw, separator, message):
    with pytest.raises(CellError) as caught:
        amount_parse(raw, separator)
    assert str(caught.value) == message


def test_round_option_rounds_float_artifacts_half_up():
    assert amount_parse("2309.7899999999995", ".", rounding=2) == Decimal("2309.79")
    assert amount_parse("0.125", ".", rounding=2) == Decimal("0.13")


def test_dates_must_match_the_format_exactly():
    assert date_parse("1/2/2013", "%m/%d/%Y") == dt.date(2013, 1, 2)
    with pytest.raises(CellError, match=r"'2013-01-02' is not a date in the format %m/%d/%Y\."):
        date_parse("2013-01-02", "%m/%d/%Y")
    with pytest.raises(CellError):
        date_parse("2/30/2013", "%m/%d/%Y")


def test_csv_keeps_leading_zeros_and_blank_lines_keep_row_numbers():
    table = _table(text="number,amount\n0000611365,55.94\n\n0000000001,1.00\n")
    assert table.header == ["number", "amount"]
    assert table.rows == [(2, ["0000611365", "55.94"]), (4, ["0000000001", "1.00"])]


def test_a_line_with_more_fields_than_the_header_is_refused():
    with pytest.raises(ImportInvalidError) as caught:
        _table(text="a,b\n1,2,3\n")
    assert caught.value.errors[0].row == 1
    assert "Expected 2 fields" in caught.value.errors[0].message


# --- validation: every problem, nothing written --------------------------------------------

def test_file_with_errors_in_many_rows_lists_every_one_and_writes_nothing(organization, collector, c001):
    audit_before = AuditEntry.objects.count()

    with pytest.raises(ImportInvalidError) as caught:
        _run(organization, collector, "invoices_errors.csv", "invoices_errors.json")

    found = [(e.row, e.column, e.message) for e in caught.value.errors]
    assert found == [
        (3, "Issued", "'2026-13-03' is not a date in the format %Y-%m-%d."),
        (4, "Net", "'12a.00' is not an amount with '.' as the decimal separator."),
        (5, "Net", "'-5.00' is negative; amounts must be zero or more."),
        (6, "Doc", "A value is required (External id)."),
        (6, "Doc", "A value is required (Invoice number)."),
        (7, "Net", "'10.12345': at most 4 decimal places."),
        (8, "Currency", "Unknown currency 'XYZ': use a 3-letter ISO 4217 code in use today, such as CNY, USD or EUR."),
        (9, "Cust", "No customer has external id C-404; import customers first, or map a customer name column "
                    "to create missing customers."),
        (10, "Due", "The due date 2026-02-02 is before the issue date 2026-03-03."),
    ]
    assert caught.value.code == ErrorCode.IMPORT_INVALID
    assert caught.value.message == "9 problem(s) in the file; nothing was imported."
    assert not Invoice.objects.filter(organization=organization).exists()
    assert AuditEntry.objects.count() == audit_before


def test_missing_required_column_is_reported_on_the_header_row(organization, collector):
    mapping = _mapping("customers.json")
    table = _table(text="Customer No,Country\nC-1,CN\n")

    with pytest.raises(ImportInvalidError) as caught:
        import_run(organization=organization, actor=collector, kind="customers", table=table, mapping=mapping)

    messages = {(e.row, e.column): e.message for e in caught.value.errors}
    assert messages[(1, "Company")] == ("Column Company (for Name) is not in the file; its columns are: "
                                        "Customer No, Country.")
    assert (1, "Terms") in messages


def test_conflicting_duplicate_external_ids_are_errors(organization, collector):
    table = _table(text="Customer No,Company\nC-1,One\nC-1,Another\n")
    mapping = mapping_from_dict({"kind": "customers", "columns": {"external_id": "Customer No", "name": "Company"}})

    with pytest.raises(ImportInvalidError) as caught:
        import_run(organization=organization, actor=collector, kind="customers", table=table, mapping=mapping)

    assert [str(e) for e in caught.value.errors] == [
        "row 3, column Customer No: External id C-1 is also on row 2 with different values."]


def test_a_viewer_cannot_import(organization, viewer):
    with pytest.raises(PermissionDenied, match="This needs the Collector role in Acme Trading."):
        _run(organization, viewer, "customers.csv", "customers.json")


# --- upserts -------------------------------------------------------------------------------

def test_customers_are_created_then_updated_by_external_id(organization, collector):
    first = _run(organization, collector, "customers.csv", "customers.json")
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    east = Customer.objects.get(organization=organization, external_id="C-001")
    assert (east.country, east.payment_terms_days, east.currency) == ("CN", 45, "CNY")
    assert east.contact_emails == ["ap@east.example", "finance@east.example"]

    changed = (FIXTURES / "customers.csv").read_text().replace("Berlin Tools GmbH", "Berlin Tools AG")
    mapping = _mapping("customers.json")
    second = import_run(organization=organization, actor=collector, kind="customers", table=_table(text=changed),
                        mapping=mapping)

    assert (second.created, second.updated, second.unchanged) == (0, 1, 1)
    assert Customer.objects.get(organization=organization, external_id="C-002").name == "Berlin Tools AG"
    assert AuditEntry.objects.filter(organization=organization, action="customer.updated").count() == 1


def test_invoices_with_comma_decimals_and_a_new_customer(organization, collector, c001):
    result = _run(organization, collector, "invoices.csv", "invoices.json")

    assert (result.created, result.customers_created) == (3, 1)
    first = Invoice.objects.get(organization=organization, number="INV-1")
    assert (first.net_amount, first.tax_amount, first.total_amount) == (
        Decimal("1234.50"), Decimal("160.49"), Decimal("1394.99"))
    assert (first.issue_date, first.due_date, first.description) == (dt.date(2026, 1, 3), dt.date(2026, 1, 31), "first")
    new = Customer.objects.get(organization=organization, external_id="C-009")
    assert (new.name, new.currency) == ("New Customer Ltd", "CNY")


def test_total_amount_gives_the_tax(organization, collector, c001):
    table = _table(text="Doc,Cust,Issued,Net,Gross\nA-1,C-001,2026-01-01,100.00,113.00\n")
    mapping = mapping_from_dict({"kind": "invoices", "columns": {
        "external_id": "Doc", "number": "Doc", "customer_external_id": "Cust", "issue_date": "Issued",
        "net_amount": "Net", "total_amount": "Gross"}})

    import_run(organization=organization, actor=collector, kind="invoices", table=table, mapping=mapping)

    invoice = Invoice.objects.get(organization=organization, number="A-1")
    assert (invoice.tax_amount, invoice.total_amount) == (Decimal("13.00"), Decimal("113.00"))
    assert invoice.due_date == dt.date(2026, 1, 31)  # no due date column: the customer's 30-day terms


def test_payments_allocate_to_their_invoice_or_oldest_due_first(organization, collector, c001):
    _run(organization, collector, "invoices.csv", "invoices.json")

    result = _run(organization, collector, "payments.csv", "payments.json")

    assert result.created == 2
    assert Invoice.objects.get(organization=organization, number="INV-1").status == InvoiceStatus.PAID
    second = Invoice.objects.get(organization=organization, number="INV-2")
    assert (second.status, second.applied_amount) == (InvoiceStatus.PARTIALLY_PAID, Decimal("50.00"))
    assert Payment.objects.get(organization=organization, external_id="PAY-1").unapplied_amount == 0
    again = _run(organization, collector, "payments.csv", "payments.json")
    assert (again.created, again.unchanged) == (0, 2)


def test_payments_that_would_over_apply_are_listed_before_anything_is_written(organization, collector, c001):
    make_invoice(organization, c001, number="INV-9", amount="100.00")
    table = _table(text="Ref,Cust,Date,Amount,Invoice\nP-1,C-001,2026-01-20,60.00,INV-9\nP-2,C-001,2026-01-21,"
                        "60.00,INV-9\nP-3,C-001,2026-01-21,1.00,NOPE\n")
    mapping = _mapping("payments.json")

    with pytest.raises(ImportInvalidError) as caught:
        import_run(organization=organization, actor=collector, kind="payments", table=table, mapping=mapping)

    assert [str(e) for e in caught.value.errors] == [
        "row 3, column Amount: Invoice INV-9 has 40.00 CNY outstanding; 60.00 CNY cannot be applied.",
        "row 4, column Invoice: No invoice has number NOPE.",
    ]
    assert not Payment.objects.filter(organization=organization).exists()


def test_a_service_error_while_writing_rolls_back_every_row_and_names_the_row(organization, collector, c001):
    paid = make_invoice(organization, c001, number="INV-5", amount="100.00", external_id="INV-5")
    make_payment(organization, c001, amount="80.00")
    paid.refresh_from_db()
    table = _table(text="Doc,Cust,Issued,Net\nNEW-1,C-001,2026-01-01,10.00\nINV-5,C-001,2026-01-01,50.00\n")
    mapping = mapping_from_dict({"kind": "invoices", "columns": {
        "external_id": "Doc", "number": "Doc", "customer_external_id": "Cust", "issue_date": "Issued",
        "net_amount": "Net"}})

    with pytest.raises(ImportInvalidError) as caught:
        import_run(organization=organization, actor=collector, kind="invoices", table=table, mapping=mapping)

    assert [str(e) for e in caught.value.errors] == [
        "row 3, column Net: The new total 50.00 CNY is less than the 80.00 CNY already applied to this invoice."]
    assert not Invoice.objects.filter(organization=organization, number="NEW-1").exists()


def test_xlsx_with_real_date_cells_and_numbers(organization, collector, c001, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["Doc", "Cust", "Issued", "Net"])
    book.active.append(["X-1", "C-001", dt.datetime(2026, 2, 1), 1234.5])
    book.active.append(["X-2", "C-001", "02/03/2026", "7.25"])
    path = tmp_path / "book.xlsx"
    book.save(path)
    mapping = mapping_from_dict({"kind": "invoices", "date_format": "%d/%m/%Y", "columns": {
        "external_id": "Doc", "number": "Doc", "customer_external_id": "Cust", "issue_date": "Issued",
        "net_amount": "Net"}})

    with path.open("rb") as file:
        table = table_read(file, "book.xlsx")
    import_run(organization=organization, actor=collector, kind="invoices", table=table, mapping=mapping)

    issued = dict(Invoice.objects.filter(organization=organization).values_list("number", "issue_date"))
    assert issued == {"X-1": dt.date(2026, 2, 1), "X-2": dt.date(2026, 3, 2)}
    assert Invoice.objects.get(organization=organization, number="X-1").net_amount == Decimal("1234.5")


# --- jobs and the management command -------------------------------------------------------

def _job(organization, actor, csv_name, mapping_name):
    from django.core.files.base import ContentFile

    job = ImportJob(organization=organization, kind=_mapping(mapping_name).kind, file_name=csv_name,
                    mapping=_mapping(mapping_name).as_dict(), created_by=actor, total_rows=2)
    job.file.save(csv_name, ContentFile((FIXTURES / csv_name).read_bytes()))
    return job


def test_a_job_runs_once_and_records_counts_and_progress(organization, collector, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = _job(organization, collector, "customers.csv", "customers.json")

    import_job_run(job_id=job.pk)
    import_job_run(job_id=job.pk)  # a second delivery of the task does nothing

    job.refresh_from_db()
    assert (job.status, job.created_count, job.processed_rows) == (ImportStatus.SUCCEEDED, 2, 2)
    assert Customer.objects.filter(organization=organization).count() == 2
    assert progress_get(job.pk) == {"processed": 2, "total": 2, "phase": "writing"}
    assert AuditEntry.objects.filter(organization=organization, action="import.completed").count() == 1


def test_a_failed_job_keeps_every_error(organization, collector, c001, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = _job(organization, collector, "invoices_errors.csv", "invoices_errors.json")

    import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert len(job.errors) == 9
    assert job.errors[0] == {"row": 3, "column": "Issued", "message": "'2026-13-03' is not a date in the format %Y-%m-%d."}


def test_command_prints_counts(organization, capsys):
    call_command("import_ledger", str(FIXTURES / "customers.csv"), organization="acme",
                 mapping=str(FIXTURES / "customers.json"))

    assert capsys.readouterr().out.strip() == "customers: 2 rows, 2 created, 0 updated, 0 unchanged"


def test_command_prints_every_error_and_fails(organization, c001, capsys):
    with pytest.raises(CommandError, match=r"9 problem\(s\) in the file; nothing was imported\."):
        call_command("import_ledger", str(FIXTURES / "invoices_errors.csv"), organization="acme", kind="invoices",
                     mapping=str(FIXTURES / "invoices_errors.json"))

    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 9
    assert lines[0] == "row 3, column Issued: '2026-13-03' is not a date in the format %Y-%m-%d."
    assert not Invoice.objects.filter(organization=organization).exists()
