"""The API's filter backend skips django-filter when a request names no filter, and only then."""

import datetime as dt

import pytest

from tests.api.conftest import error_of
from tests.factories import make_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoices(organization, acme_customer):
    return [make_invoice(organization, acme_customer, amount=amount, number=f"INV-{n}",
                         issue_date=dt.date(2026, 1, 1) + dt.timedelta(days=10 * n))
            for n, amount in enumerate(["10.00", "200.00", "3000.00"])]


def _numbers(response):
    assert response.status_code == 200, response.content
    return sorted(row["number"] for row in response.json()["results"])


def test_no_filter_named_lists_everything(api, invoices):
    assert _numbers(api.get("/api/v1/invoices/", {"page_size": 10, "unrelated": "x"})) == ["INV-0", "INV-1", "INV-2"]


@pytest.mark.parametrize(("params", "expected"), [
    ({"number": "INV-1"}, ["INV-1"]),
    ({"total_amount_min": "100"}, ["INV-1", "INV-2"]),
    ({"issue_date_from": "2026-01-11", "issue_date_to": "2026-01-11"}, ["INV-1"]),
    ({"status": "open", "total_amount_max": "50"}, ["INV-0"]),
])
def test_named_filters_still_filter(api, invoices, params, expected):
    assert _numbers(api.get("/api/v1/invoices/", params)) == expected


def test_a_bad_filter_value_is_still_a_400(api, invoices):
    response = api.get("/api/v1/invoices/", {"issue_date_from": "yesterday"})
    assert response.status_code == 400
    assert "issue_date_from" in error_of(response)["fields"]


def test_customer_search_matches_what_the_customer_list_page_matches(api, organization):
    from tests.factories import CustomerFactory

    CustomerFactory(organization=organization, name="上海华东贸易有限公司", registration_number="91310000MA1FL0XX1X",
                    external_id="K-77")
    CustomerFactory(organization=organization, name="Other")
    for term in ("华东", "91310000MA1FL", "K-77"):
        response = api.get("/api/v1/customers/", {"search": term})
        assert [row["name"] for row in response.json()["results"]] == ["上海华东贸易有限公司"], term
