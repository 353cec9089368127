"""A corpus of bad input for the API and the importer: each is a 400 (or, for the importer, a row
error) with a clear, specific message, and nothing is written."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.apps import apps
from django.core.cache import cache

from receivables.importing.errors import ImportInvalidError
from receivables.importing.mapping import mapping_from_dict
from receivables.importing.reader import table_read
from receivables.importing.services import import_run
from tenancy.dates import DATE_MAX, DATE_MIN
from tests.api.conftest import key_client
from tests.factories import make_invoice

RANGE = f"Enter a date between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}."
WATCHED = ["receivables.Customer", "receivables.Invoice", "receivables.Payment", "receivables.CreditNote",
           "receivables.Allocation", "receivables.WriteOff", "dunning.PromiseToPay", "dunning.Dispute",
           "tenancy.AuditEntry", "tenancy.WebhookEvent"]


def _counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in WATCHED}


@pytest.fixture
def api(organization):
    cache.clear()
    return key_client(organization, rate_limit_per_minute=100_000)


@pytest.fixture
def invoice(organization, customer):
    return make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, 1))


def deep_json(levels: int) -> str:
    return "[" * levels + "]" * levels


def corpus(customer, invoice) -> list[tuple[str, str, str, object, str]]:
    """(id, method, url, body, expected message fragment)."""
    c, i = customer.pk, invoice.pk
    inv = {"customer": c, "number": "BAD-1", "issue_date": "2026-01-01", "net_amount": "10.00"}
    return [
        ("aging as of year 1", "get", "/api/v1/reports/aging/?as_of=0001-01-01", None, RANGE),
        ("dso as of year 1", "get", "/api/v1/reports/dso/?as_of=0001-01-01", None, RANGE),
        ("aging as of year 9999", "get", "/api/v1/reports/aging/?as_of=9999-12-31", None, RANGE),
        ("statement as of year 1", "get", f"/api/v1/customers/{c}/statement/?as_of=0001-01-01", None, RANGE),
        ("aging as of 30 February", "get", "/api/v1/reports/aging/?as_of=2026-02-30", None, "Date has wrong format"),
        ("invoice issued 9999-12-31", "post", "/api/v1/invoices/", {**inv, "issue_date": "9999-12-31"}, RANGE),
        ("invoice issued 0001-01-01", "post", "/api/v1/invoices/", {**inv, "issue_date": "0001-01-01"}, RANGE),
        ("invoice due 9999-12-31", "post", "/api/v1/invoices/", {**inv, "due_date": "9999-12-31"}, RANGE),
        ("invoice amount as a float", "post", "/api/v1/invoices/", {**inv, "net_amount": 0.1}, "string"),
        ("invoice amount NaN", "post", "/api/v1/invoices/", {**inv, "net_amount": "NaN"}, ""),
        ("invoice amount 1e400", "post", "/api/v1/invoices/", {**inv, "net_amount": "1e400"}, ""),
        ("invoice amount negative", "post", "/api/v1/invoices/", {**inv, "net_amount": "-5.00"}, ""),
        ("invoice number with NUL", "post", "/api/v1/invoices/", {**inv, "number": "A\x00B"}, ""),
        ("invoice of an unknown customer", "post", "/api/v1/invoices/", {**inv, "customer": 10**12}, ""),
        ("invoice body is a list", "post", "/api/v1/invoices/", [inv], ""),
        ("payment received 9999-12-31", "post", "/api/v1/payments/",
         {"customer": c, "received_on": "9999-12-31", "amount": "10.00"}, RANGE),
        ("promise dated 9999-12-31", "post", "/api/v1/promises/",
         {"customer": c, "invoices": [i], "amount": "10.00", "promised_date": "9999-12-31"}, RANGE),
        ("customer with terms 10**30", "post", "/api/v1/customers/",
         {"name": "Big Terms", "payment_terms_days": 10**30}, ""),
        ("customer name 100,000 characters", "post", "/api/v1/customers/", {"name": "x" * 100_000}, ""),
        ("JSON nested 100,000 deep", "post", "/api/v1/customers/", deep_json(100_000), "nested too deeply"),
        ("JSON nested 100,000 deep in bulk", "post", "/api/v1/invoices/bulk/", deep_json(100_000), "nested too deeply"),
        ("not JSON", "post", "/api/v1/customers/", "{name: 'x'", "JSON parse error"),
    ]


def test_every_bad_api_input_is_a_clear_400_and_writes_nothing(api, customer, invoice):
    problems = []
    for name, method, url, body, fragment in corpus(customer, invoice):
        before = _counts()
        if isinstance(body, str):
            response = api.generic(method.upper(), url, body, content_type="application/json")
        else:
            response = getattr(api, method)(url, body, format="json")
        written = {k: v for k, v in _counts().items() if v != before[k]}
        error = response.json().get("error", {}) if response.get("Content-Type", "").startswith("application/json") \
            else {}
        message = error.get("message", "") + " " + str(error.get("fields", ""))
        if response.status_code != 400 or not error.get("message") or fragment not in message or written:
            problems.append((name, response.status_code, message[:160], written))
    assert problems == []


def _import(organization, admin_user, kind, mapping, text):
    return import_run(organization=organization, actor=admin_user, kind=kind, mapping=mapping_from_dict(mapping),
                      table=table_read(io.BytesIO(text.encode()), "bad.csv"))


CUSTOMERS = {"kind": "customers", "columns": {"external_id": "No", "name": "Name", "payment_terms_days": "Terms"}}
INVOICES = {"kind": "invoices", "columns": {"external_id": "Doc", "number": "Doc", "customer_external_id": "Cust",
                                            "issue_date": "Issued", "due_date": "Due", "net_amount": "Net"},
            "date_format": "%Y-%m-%d", "default_currency": "CNY"}


@pytest.mark.parametrize(("name", "mapping", "text", "column", "fragment"), [
    ("terms ²", CUSTOMERS, "No,Name,Terms\nC-9,Acme,²\n", "Terms", "is not a whole number of days"),
    ("terms in Arabic-Indic digits", CUSTOMERS, "No,Name,Terms\nC-9,Acme,٣٠\n", "Terms", "whole number"),
    ("terms 10**30", CUSTOMERS, "No,Name,Terms\nC-9,Acme," + "9" * 30 + "\n", "Terms", "is more than"),
    ("issued 9999-12-31", INVOICES, "Doc,Cust,Issued,Due,Net\nI-1,C-001,9999-12-31,,10.00\n", "Issued", RANGE),
    ("issued 0001-01-01", INVOICES, "Doc,Cust,Issued,Due,Net\nI-1,C-001,0001-01-01,,10.00\n", "Issued", RANGE),
    ("due 9999-12-31", INVOICES, "Doc,Cust,Issued,Due,Net\nI-1,C-001,2026-01-01,9999-12-31,10.00\n", "Due", RANGE),
    ("amount NaN", INVOICES, "Doc,Cust,Issued,Due,Net\nI-1,C-001,2026-01-01,,NaN\n", "Net", "is not an amount"),
    ("amount 1e5", INVOICES, "Doc,Cust,Issued,Due,Net\nI-1,C-001,2026-01-01,,1e5\n", "Net", "is not an amount"),
])
def test_every_bad_import_cell_is_a_row_error_and_writes_nothing(organization, admin_user, name, mapping, text,
                                                                 column, fragment):
    from tests.factories import CustomerFactory

    CustomerFactory(organization=organization, external_id="C-001", currency="CNY")
    before = _counts()
    with pytest.raises(ImportInvalidError) as raised:
        _import(organization, admin_user, mapping["kind"], mapping, text)
    [error] = raised.value.errors
    assert (error.row, error.column) == (2, column)
    assert fragment in error.message
    assert _counts() == before
