"""The credit customer list downloads as CSV/XLSX with its search: limit, exposure and overdue in
base currency as numbers, every matching customer (not one page), the organization's only."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from credit import services
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 20, 1, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def test_the_portfolio_downloads_every_matching_customer_with_numbers(client, admin_user, organization,
                                                                       other_organization):
    for n in range(30):
        CustomerFactory(organization=organization, name=f"Huadong {n:02d}")
    limited = CustomerFactory(organization=organization, name="Huadong Limited")
    services.credit_limit_apply(organization=organization, actor=admin_user, customer=limited,
                                limit=Decimal("50000.00"), terms_days=30, source="test")
    make_invoice(organization, limited, amount="1200.00", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 2, 1))
    CustomerFactory(organization=organization, name="Other name")
    CustomerFactory(organization=other_organization, name="Huadong rival")
    client.force_login(admin_user)

    response = client.get(reverse("credit:portfolio"), {"search": "huadong", "export": "xlsx"})
    assert response["Content-Disposition"] == 'attachment; filename="credit-portfolio-acme-2026-03-20.xlsx"'
    header, *rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 31  # every match, not the first page of 25
    row = dict(zip(header, next(r for r in rows if r[0] == "Huadong Limited"), strict=True))
    assert (row["Credit limit"], row["Exposure"], row["Overdue"], row["Currency"]) == (50000, 1200, 1200, "CNY")
    assert 'data-testid="export-csv"' in client.get(reverse("credit:portfolio")).content.decode()
