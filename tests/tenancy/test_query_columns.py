"""tenancy.db.query_columns: the rows of a query as numpy arrays, by COPY on PostgreSQL and by
fetchall elsewhere; both ways give the same arrays, NULLs included."""

import datetime as dt

import numpy as np
import pytest
from django.db import connections

from tenancy.db import query_columns
from tests.factories import CustomerFactory, make_invoice

SQL = """
    SELECT i.id, i.currency, i.total_amount AS amount, i.due_date, v.voided_on, i.number,
           i.total_amount > 100 AS large, CASE WHEN i.total_amount > 100 THEN NULL ELSE i.total_amount END AS small,
           CASE WHEN i.total_amount > 100 THEN NULL WHEN i.total_amount < 1 THEN '' ELSE i.currency END AS maybe
    FROM receivables_invoice i
    LEFT JOIN (SELECT id, CAST(NULL AS date) AS voided_on FROM receivables_invoice) v ON v.id = i.id
    WHERE i.organization_id = %(org)s ORDER BY i.id
"""
KINDS = {"id": "int", "currency": "text", "amount": "float", "due_date": "day", "voided_on": "day", "number": "text",
         "large": "bool", "small": "float", "maybe": "text"}


@pytest.fixture
def book(organization):
    customer = CustomerFactory(organization=organization, currency="USD")
    return [make_invoice(organization, customer, amount=amount, due_date=dt.date(2026, 3, day), number=number)
            for amount, day, number in (("100.00", 1, 'A,"1"'), ("250.50", 2, "B;2"), ("0.01", 3, "C\\3 中"))]


def test_copy_and_fetch_give_the_same_arrays(organization, book, monkeypatch):
    # when: by COPY (PostgreSQL), then by fetchall (as on SQLite)
    copied = query_columns(SQL, {"org": organization.pk}, KINDS)
    monkeypatch.setattr(type(connections["default"]), "vendor", "sqlite")
    fetched = query_columns(SQL, {"org": organization.pk}, KINDS)

    # then
    assert copied["id"].tolist() == [invoice.pk for invoice in book]
    assert copied["amount"].tolist() == [100.0, 250.5, 0.01]
    assert copied["due_date"].tolist() == [dt.date(2026, 3, d).toordinal() for d in (1, 2, 3)]
    assert np.isnan(copied["voided_on"]).all()
    assert copied["number"].tolist() == ['A,"1"', "B;2", "C\\3 中"]
    assert copied["currency"].tolist() == ["USD"] * 3
    assert copied["large"].tolist() == [False, True, False]
    assert copied["small"][0] == 100.0 and np.isnan(copied["small"][1]) and copied["small"][2] == 0.01
    assert copied["maybe"].tolist() == fetched["maybe"].tolist() == ["USD", None, ""]
    for name in KINDS:
        assert copied[name].dtype == fetched[name].dtype, name
        if name != "maybe":  # None != None for numpy's object comparison: compared as lists above
            assert np.array_equal(copied[name], fetched[name], equal_nan=copied[name].dtype.kind == "f"), name
