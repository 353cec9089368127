"""A malformed factor statement is a 400 naming the row, never a 500 (review of issue 15): a row with
more values than the header has columns, and a file csv cannot read (a field over its size limit)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from factoring.models import Entry
from tests.api.conftest import key_client
from tests.factoring.conftest import facility_make


@pytest.fixture
def api(organization) -> APIClient:
    return key_client(organization)


@pytest.mark.parametrize(("csv", "row"), [
    ("date,type,invoice,amount\n2026-03-20,collection,INV-1,4000.00,surplus\n", 2),
    ("date,type,invoice,amount\n2026-03-20,collection,INV-1,4000.00\n2026-03-21,fee,\"" + "x" * 200_000 + "\",1\n",
     3),
], ids=["extra-value", "oversized-field"])
def test_a_malformed_statement_is_a_400_naming_the_row(api, organization, csv, row):
    facility = facility_make(organization)
    response = api.post(f"/api/v1/factoring/facilities/{facility.pk}/statements/", {"csv": csv}, format="json")
    assert response.status_code == 400
    assert [r["row"] for r in response.json()["error"]["rows"]] == [row]
    assert not Entry.objects.filter(organization=organization).exists()
