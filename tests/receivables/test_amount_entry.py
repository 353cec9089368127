"""Issue 12, items 12 and 13: amounts finer than the currency's ISO 4217 minor unit are refused wherever
money enters (API, bulk, forms, importer), and one strict way of writing a number at every entry point."""

import datetime as dt
import io

import pytest
import time_machine

from receivables.importing.errors import ImportInvalidError
from receivables.importing.mapping import mapping_from_dict
from receivables.importing.parsing import CellError, amount_parse
from receivables.importing.reader import table_read
from receivables.importing.services import import_run
from receivables.models import Invoice, Payment
from tenancy.errors import DomainError
from tenancy.models import Role
from tenancy.money import parse_amount
from tests.api.conftest import error_of, key_client
from tests.factories import CustomerFactory, MembershipFactory

LOOSE = ["1e5", "1_000", "+1", " 1 ", "١٠٠", "１００", "1.", ".5", "0x10", "1,000", "NaN", "Infinity"]
TEXT_ERROR = ("Write amounts with the digits 0-9 and an optional decimal point, such as \"1250.00\" (no exponent, "
              "sign, spaces, separators or other digits).")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def yen_customer(organization):
    return CustomerFactory(organization=organization, external_id="C-JP", name="Osaka Shoji", currency="JPY")


@pytest.fixture
def yuan_customer(organization):
    return CustomerFactory(organization=organization, external_id="C-1", name="Shanghai East Trading",
                           currency="CNY")


def _invoice(customer, amount, **extra):
    return {"customer": customer.pk, "number": "INV-1", "issue_date": "2026-03-01", "net_amount": amount, **extra}


# --- 13. one strict number parser ---------------------------------------------------------------

@pytest.mark.parametrize("raw", LOOSE)
def test_parse_amount_refuses_loosely_written_numbers(raw):
    with pytest.raises(DomainError) as error:
        parse_amount(raw, field="net_amount")
    assert error.value.field == "net_amount"


@pytest.mark.parametrize("raw", LOOSE)
def test_api_refuses_loosely_written_numbers_like_the_importer(organization, yuan_customer, raw):
    response = key_client(organization).post("/api/v1/invoices/", _invoice(yuan_customer, raw), format="json")
    assert response.status_code == 400, (raw, response.json())
    assert not Invoice.objects.exists()


def test_api_names_the_rule(organization, yuan_customer):
    response = key_client(organization).post("/api/v1/invoices/", _invoice(yuan_customer, "1e5"), format="json")
    body = response.json()
    assert TEXT_ERROR in str(body), body


@pytest.mark.parametrize("raw", ["١٠٠", "１００", "١٢٣.٤٥"])
def test_importer_refuses_other_digit_characters(raw):
    with pytest.raises(CellError):
        amount_parse(raw, ".")


def test_bulk_fast_path_does_not_take_arabic_indic_digits(organization, yuan_customer):
    rows = [{"external_id": "SAP-1", "number": "INV-1", "customer_external_id": "C-1", "issue_date": "2026-03-01",
             "net_amount": "١٠٠"}]
    response = key_client(organization).post("/api/v1/invoices/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 400
    assert not Invoice.objects.exists()


def test_browser_form_refuses_an_exponent(client, organization, yuan_customer):
    client.force_login(MembershipFactory(organization=organization, role=Role.COLLECTOR).user)
    response = client.post("/invoices/new/", {"customer": yuan_customer.pk, "number": "INV-1",
                                              "issue_date": "2026-03-01", "net_amount": "1e5", "tax_amount": "0"})
    assert response.status_code in (200, 400)
    assert TEXT_ERROR.replace('"', "&quot;") in response.content.decode()
    assert not Invoice.objects.exists()


# --- 12. ISO 4217 minor units -------------------------------------------------------------------

def test_api_refuses_yuan_finer_than_the_fen(organization, yuan_customer):
    response = key_client(organization).post("/api/v1/invoices/", _invoice(yuan_customer, "130.0049"),
                                             format="json")
    assert response.status_code == 400
    assert "130.0049 CNY: CNY amounts have at most 2 decimal places." in str(error_of(response))
    assert not Invoice.objects.exists()


def test_api_refuses_half_a_yen(organization, yen_customer):
    response = key_client(organization).post("/api/v1/invoices/", _invoice(yen_customer, "1000.5"), format="json")
    assert response.status_code == 400
    assert "1000.5 JPY: JPY amounts are whole numbers (no minor unit)." in str(error_of(response))
    ok = key_client(organization).post("/api/v1/invoices/", _invoice(yen_customer, "1000.0000"), format="json")
    assert ok.status_code == 201, ok.json()


def test_api_refuses_a_payment_finer_than_the_fen(organization, yuan_customer):
    response = key_client(organization).post("/api/v1/payments/", {
        "customer": yuan_customer.pk, "received_on": "2026-03-02", "amount": "130.0049"}, format="json")
    assert response.status_code == 400
    assert "CNY amounts have at most 2 decimal places" in str(error_of(response))
    assert not Payment.objects.exists()


def test_bulk_refuses_half_a_yen(organization, yen_customer):
    rows = [{"external_id": "SAP-1", "number": "INV-1", "customer_external_id": "C-JP", "issue_date": "2026-03-01",
             "net_amount": "1000.5"}]
    response = key_client(organization).post("/api/v1/invoices/bulk/", {"rows": rows}, format="json")
    assert response.status_code == 400
    [row] = error_of(response)["rows"]
    assert row["errors"][0]["field"] == "net_amount"
    assert row["errors"][0]["message"] == "1000.5 JPY: JPY amounts are whole numbers (no minor unit)."


def test_browser_form_refuses_yuan_finer_than_the_fen(client, organization, yuan_customer):
    client.force_login(MembershipFactory(organization=organization, role=Role.COLLECTOR).user)
    response = client.post("/invoices/new/", {"customer": yuan_customer.pk, "number": "INV-1",
                                              "issue_date": "2026-03-01", "net_amount": "130.0049",
                                              "tax_amount": "0"})
    assert "CNY amounts have at most 2 decimal places" in response.content.decode()
    assert not Invoice.objects.exists()


def test_importer_refuses_yuan_finer_than_the_fen_with_row_and_column(organization, collector, yuan_customer):
    mapping = mapping_from_dict({
        "kind": "invoices", "columns": {"external_id": "Doc", "number": "Doc", "customer_external_id": "Cust",
                                        "issue_date": "Issued", "net_amount": "Net"},
        "date_format": "%Y-%m-%d", "decimal_separator": ".", "default_currency": "CNY"})
    table = table_read(io.BytesIO(b"Doc,Cust,Issued,Net\nINV-1,C-1,2026-03-01,100.00\nINV-2,C-1,2026-03-01,130.0049\n"),
                       "invoices.csv")
    with pytest.raises(ImportInvalidError) as error:
        import_run(organization=organization, actor=collector, kind="invoices", table=table, mapping=mapping)
    [problem] = error.value.errors
    assert (problem.row, problem.column) == (3, "Net")
    assert problem.message == "130.0049 CNY: CNY amounts have at most 2 decimal places."
    assert not Invoice.objects.exists()


def test_importer_refuses_a_payment_finer_than_the_fen(organization, collector, yuan_customer):
    mapping = mapping_from_dict({
        "kind": "payments", "columns": {"external_id": "Ref", "customer_external_id": "Cust", "received_on": "Date",
                                        "amount": "Amount"},
        "date_format": "%Y-%m-%d", "decimal_separator": ".", "default_currency": "CNY"})
    table = table_read(io.BytesIO(b"Ref,Cust,Date,Amount\nB-1,C-1,2026-03-01,130.0049\n"), "payments.csv")
    with pytest.raises(ImportInvalidError) as error:
        import_run(organization=organization, actor=collector, kind="payments", table=table, mapping=mapping)
    assert "CNY amounts have at most 2 decimal places" in error.value.errors[0].message
    assert not Payment.objects.exists()
