"""Cursor pagination and incremental sync: stable order, no gaps, no repeats, a page size cap."""

import datetime as dt

import pytest
import time_machine
from django.test import override_settings

from receivables import services
from tests.api.conftest import error_of
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db


def _all_pages(api, url, params):
    seen, pages = [], 0
    response = api.get(url, params)
    while True:
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        pages += 1
        if body["next_cursor"] is None:
            assert body["next"] is None
            return seen, pages
        response = api.get(url, {**params, "cursor": body["next_cursor"]})


def test_paging_visits_every_row_once_in_order(api, organization):
    customer = CustomerFactory(organization=organization)
    invoices = [make_invoice(organization, customer) for _ in range(23)]
    seen, pages = _all_pages(api, "/api/v1/invoices/", {"page_size": 5})
    assert pages == 5
    assert seen == [i.pk for i in sorted(invoices, key=lambda i: (i.updated_at, i.pk))]


def test_rows_changed_while_paging_are_not_skipped(api, organization):
    customer = CustomerFactory(organization=organization)
    invoices = [make_invoice(organization, customer) for _ in range(6)]
    first = api.get("/api/v1/invoices/", {"page_size": 3}).json()
    # An invoice already read changes: it moves to the end of the (updated_at, id) order.
    services.invoice_update(organization=organization, invoice=invoices[0], actor=None, description="changed")
    rest, _pages = _all_pages(api, "/api/v1/invoices/", {"page_size": 3, "cursor": first["next_cursor"]})
    ids = [row["id"] for row in first["results"]] + rest
    assert set(ids) == {i.pk for i in invoices}
    assert ids[-1] == invoices[0].pk  # seen again, with its new state


def test_ties_on_the_ordering_field_are_broken_by_id(api, organization):
    customer = CustomerFactory(organization=organization)
    invoices = [make_invoice(organization, customer, issue_date=dt.date(2026, 1, 1)) for _ in range(7)]
    seen, _pages = _all_pages(api, "/api/v1/invoices/", {"page_size": 2, "ordering": "-issue_date"})
    assert seen == sorted((i.pk for i in invoices), reverse=True)


def test_updated_since_returns_only_later_changes(api, organization):
    customer = CustomerFactory(organization=organization)
    with time_machine.travel(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC), tick=False):
        old = make_invoice(organization, customer)
    with time_machine.travel(dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC), tick=False):
        new = make_invoice(organization, customer)
    with time_machine.travel(dt.datetime(2026, 3, 3, 8, 0, tzinfo=dt.UTC), tick=False):
        services.invoice_update(organization=organization, invoice=old, actor=None, description="later")
    rows = api.get("/api/v1/invoices/", {"updated_since": "2026-03-02T00:00:00+00:00"}).json()["results"]
    assert [row["id"] for row in rows] == [new.pk, old.pk]


@override_settings(API_MAX_PAGE_SIZE=50)
def test_page_size_is_capped(api):
    response = api.get("/api/v1/invoices/", {"page_size": 51})
    assert response.status_code == 400
    assert error_of(response)["fields"]["page_size"] == [{"code": "invalid", "message": "A whole number from 1 to 50."}]


def test_cursor_from_another_ordering_is_refused(api, organization):
    customer = CustomerFactory(organization=organization)
    for _ in range(3):
        make_invoice(organization, customer)
    cursor = api.get("/api/v1/invoices/", {"page_size": 1}).json()["next_cursor"]
    response = api.get("/api/v1/invoices/", {"cursor": cursor, "ordering": "due_date"})
    assert response.status_code == 400
    assert error_of(response)["fields"]["cursor"][0]["message"] == "Invalid cursor: use the next_cursor of a page."
    assert api.get("/api/v1/invoices/", {"cursor": "garbage!"}).status_code == 400


def test_unknown_ordering_is_400(api):
    response = api.get("/api/v1/invoices/", {"ordering": "external_id"})
    assert response.status_code == 400
    assert "Order by one of: updated_at, id" in error_of(response)["fields"]["ordering"][0]["message"]


# --- a field that can be NULL cannot order keyset pages ------------------------------------------

def _credit_profiles(organization, count=7):
    from credit.services import profile_ensure

    profiles = []
    for index in range(count):
        profile = profile_ensure(organization=organization, customer=CustomerFactory(organization=organization))
        if index % 2:  # every other file has a review date; the rest have none (NULL)
            profile.next_review_on = dt.date(2026, 4, 1) + dt.timedelta(days=index % 3)
            profile.save(update_fields=["next_review_on"])
        profiles.append(profile)
    return profiles


@pytest.mark.parametrize("ordering", ["next_review_on", "-next_review_on"])
def test_ordering_by_a_nullable_field_is_400(api, organization, ordering):
    _credit_profiles(organization)
    response = api.get("/api/v1/credit-profiles/", {"ordering": ordering, "page_size": 2})
    assert response.status_code == 400
    message = ("next_review_on can be empty, so it cannot order pages. Order by one of: updated_at, id "
               "(prefix - for descending).")
    assert error_of(response) == {"code": "validation_error", "message": message,
                                  "fields": {"ordering": [{"code": "invalid", "message": message}]}}


@pytest.mark.parametrize("ordering", ["id", "-id", "updated_at", "-updated_at"])
def test_credit_profiles_page_through_every_row_by_a_non_null_field(api, organization, ordering):
    profiles = _credit_profiles(organization)
    seen, pages = _all_pages(api, "/api/v1/credit-profiles/", {"ordering": ordering, "page_size": 2})
    assert pages == 4
    assert sorted(seen) == sorted(p.pk for p in profiles) and len(seen) == len(profiles)


def test_the_schema_offers_only_non_null_orderings(api):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    (ordering,) = [p for p in schema["paths"]["/api/v1/credit-profiles/"]["get"]["parameters"]
                   if p["name"] == "ordering"]
    assert ordering["schema"]["enum"] == ["updated_at", "-updated_at", "id", "-id"]


def test_a_deep_page_is_read_by_seeking_the_index_not_by_sorting_what_follows(api, organization, collector):
    """All rows of a bulk upsert share one updated_at: the cursor must still be a single index
    range, read in order up to the page size (no Sort of every later row, page after page)."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customer = CustomerFactory(organization=organization)
    services.invoices_create_many(organization=organization, actor=collector, rows=[
        {"customer": customer, "number": f"B-{n}", "issue_date": dt.date(2026, 1, 1), "net_amount": "10.00"}
        for n in range(400)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE receivables_invoice")
    first = api.get("/api/v1/invoices/", {"page_size": 50}).json()
    with CaptureQueriesContext(connection) as queries:
        second = api.get("/api/v1/invoices/", {"page_size": 50, "cursor": first["next_cursor"]}).json()
    page_sql = next(q["sql"] for q in queries.captured_queries if "receivables_invoice" in q["sql"] and "LIMIT 51" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + page_sql)
        plan = json.dumps(cursor.fetchone()[0])

    assert len(second["results"]) == 50 and second["results"][0]["id"] > first["results"][-1]["id"]
    assert '"Node Type": "Sort"' not in plan and "Bitmap" not in plan
    assert "ROW(updated_at, id) > ROW(" in plan  # the cursor is the index condition
