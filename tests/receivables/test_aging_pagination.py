"""Aging by customer a page at a time (its own page and the dashboard's table), the most overdue
first, with totals over every customer whatever the page or the search, and the download of every
matching row."""

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from receivables import selectors
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 3, 31)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def member_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def thirty(organization):
    """30 customers; customer n owes 100 + n, overdue by n days for odd n, current for even n."""
    customers = []
    for n in range(1, 31):
        customer = CustomerFactory(organization=organization, name=f"Kunde {n:02d}")
        due = AS_OF - dt.timedelta(days=n) if n % 2 else AS_OF + dt.timedelta(days=n)
        make_invoice(organization, customer, amount=f"{100 + n}.00", issue_date=dt.date(2026, 1, 1), due_date=due)
        customers.append(customer)
    return customers


def _shown(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-testid="aging-row-(\d+)"', html)]


def test_the_aging_page_shows_25_customers_a_page_most_overdue_first(member_client, thirty):
    first = member_client.get(reverse("reporting:aging"))
    assert first.status_code == 200
    rows = _shown(first.content.decode())
    overdue_first = [c.pk for c in sorted(thirty, key=lambda c: -int(c.name[-2:]) if int(c.name[-2:]) % 2 else 0)]
    assert len(rows) == 25
    assert rows[:15] == overdue_first[:15]  # the 15 overdue ones, the largest overdue amount first
    second = _shown(member_client.get(reverse("reporting:aging"), {"page": 2}).content.decode())
    assert len(second) == 5 and not set(second) & set(rows)


def test_the_totals_are_over_every_customer_on_every_page_and_search(member_client, organization, thirty):
    report = selectors.aging_report(organization, AS_OF)
    total = f"{sum(100 + n for n in range(1, 31)):,}.00"  # 3,465.00
    for params in ({}, {"page": 2}, {"search": "Kunde 07"}):
        html = member_client.get(reverse("reporting:aging"), params).content.decode()
        assert f'data-testid="aging-total-all">{total}<' in html, params
        assert report.total == sum(100 + n for n in range(1, 31))
    searched = _shown(member_client.get(reverse("reporting:aging"), {"search": "kunde 07"}).content.decode())
    assert searched == [thirty[6].pk]


def test_the_aging_download_holds_every_matching_row_with_its_currency(member_client, thirty):
    response = member_client.get(reverse("reporting:aging"), {"export": "csv", "page": 2})
    assert response["Content-Disposition"] == 'attachment; filename="aging-2026-03-31-acme-2026-03-31.csv"'
    body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) == 30
    assert header[-3:] == ["Total", "Overdue", "Currency"]
    assert rows[0][1] == "Kunde 29" and rows[0][-3:] == ["129.00", "129.00", "CNY"]
    workbook = openpyxl.load_workbook(io.BytesIO(member_client.get(reverse("reporting:aging"),
                                                                   {"export": "xlsx", "search": "Kunde 1"}).content))
    sheet_rows = list(workbook.active.iter_rows(values_only=True))[1:]
    assert sorted(r[1] for r in sheet_rows) == [f"Kunde {n}" for n in range(10, 20)]
    assert all(isinstance(r[-3], int | float) for r in sheet_rows)


def test_the_dashboard_aging_table_is_paginated_with_totals_over_all(member_client, thirty):
    html = member_client.get(reverse("dashboard")).content.decode()
    assert len(_shown(html)) == 25
    assert 'data-testid="aging-total-all">3,465.00<' in html
    assert 'data-testid="aging-page-link"' in html
    assert len(_shown(member_client.get(reverse("dashboard"), {"page": 2}).content.decode())) == 5


def test_the_aging_page_is_as_of_the_date_asked(member_client, thirty):
    # on 2026-02-15 every invoice was issued (2026-01-01) and none was due yet (the earliest: 2026-03-01)
    response = member_client.get(reverse("reporting:aging"), {"as_of": "2026-02-15"})
    assert response.context["as_of"] == dt.date(2026, 2, 15)
    assert response.context["page"].paginator.count == 30
    assert response.context["report"].overdue == 0 < response.context["report"].total
