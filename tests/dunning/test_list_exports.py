"""Dunning's lists (disputes, promises to pay, payment plans) download as CSV and XLSX with the
page's filter (disputes: ?status=), amounts as numbers beside a currency, the organization's rows only."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from dunning import services
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 20, 1, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def work(organization, admin_user, other_organization):
    buyer = CustomerFactory(organization=organization, name="=cmd|' /C calc'!A0")
    other = CustomerFactory(organization=organization, name="Beijing Parts Co")
    first = make_invoice(organization, buyer, amount="1000.00", issue_date=dt.date(2026, 1, 1),
                         due_date=dt.date(2026, 2, 1), number="INV-1")
    second = make_invoice(organization, other, amount="400.00", issue_date=dt.date(2026, 1, 1),
                          due_date=dt.date(2026, 2, 1), number="INV-2")
    third = make_invoice(organization, other, amount="600.00", issue_date=dt.date(2026, 1, 1),
                         due_date=dt.date(2026, 2, 1), number="INV-3")
    open_one = services.dispute_open(organization=organization, actor=admin_user, invoice=first, reason="price",
                                     amount=Decimal("250.50"))
    services.promise_create(organization=organization, actor=admin_user, customer=other, invoices=[second],
                            amount=Decimal("400.00"), promised_date=dt.date(2026, 3, 31))
    services.payment_plan_create(organization=organization, actor=admin_user, customer=other, invoices=[third],
                                 installments=[dt.date(2026, 4, 20), dt.date(2026, 5, 20)])
    stranger = CustomerFactory(organization=other_organization, currency="USD")
    services.dispute_open(organization=other_organization, actor=None, reason="price",
                          invoice=make_invoice(other_organization, stranger, amount="5.00", number="RIVAL-1"))
    return {"dispute": open_one}


@pytest.fixture
def member_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _csv(response):
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(body)))


def test_disputes_download_with_the_status_filter(member_client, work):
    response = member_client.get(reverse("dunning:dispute_list"), {"status": "open", "export": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="disputes-acme-2026-03-20.csv"'
    header, *rows = _csv(response)
    assert len(rows) == 1  # not the other organization's
    row = dict(zip(header, rows[0], strict=True))
    assert row["Customer"] == "'=cmd|' /C calc'!A0"  # text, not a formula
    assert (row["Invoice"], row["Currency"], row["Disputed amount"]) == ("INV-1", "CNY", "250.50")
    assert _csv(member_client.get(reverse("dunning:dispute_list"), {"status": "resolved", "export": "csv"}))[1:] == []


def test_promises_and_plans_download_as_xlsx_with_number_cells(member_client, work):
    response = member_client.get(reverse("dunning:promise_list"), {"export": "xlsx"})
    assert response["Content-Disposition"] == 'attachment; filename="promises-acme-2026-03-20.xlsx"'
    header, *rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    promise = dict(zip(header, rows[0], strict=True))
    assert (promise["Customer"], promise["Invoices"], promise["Currency"], promise["Amount"]) == (
        "Beijing Parts Co", "INV-2", "CNY", 400)
    response = member_client.get(reverse("dunning:plan_list"), {"export": "xlsx"})
    header, *rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    plan = dict(zip(header, rows[0], strict=True))
    assert (plan["Invoices"], plan["Covered balance"], plan["Installments"]) == ("INV-3", 600, 2)


def test_the_list_pages_offer_the_downloads(member_client, work):
    for name in ("dunning:dispute_list", "dunning:promise_list", "dunning:plan_list"):
        html = member_client.get(reverse(name)).content.decode()
        assert 'data-testid="export-csv"' in html and 'data-testid="export-xlsx"' in html, name
