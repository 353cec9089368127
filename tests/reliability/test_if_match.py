"""PATCH of ledger objects requires If-Match: without it a 428 that changes nothing, so a correction
never silently overwrites someone else's; a stale ETag stays a 412; `*` overwrites on purpose."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache

from receivables import services
from tests.api.conftest import key_client
from tests.factories import make_invoice, make_payment


@pytest.fixture
def api(organization):
    cache.clear()
    return key_client(organization)


@pytest.fixture
def ledger(organization, customer):
    invoice = make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, 1))
    payment = make_payment(organization, customer, amount="10.00", auto_allocate=False)
    credit_note = services.credit_note_create(organization=organization, actor=None, customer=customer,
                                              number="CN-1", issued_on=dt.date(2026, 1, 5), amount=Decimal("5.00"))
    return {"customers": (customer, {"name": "Renamed"}), "invoices": (invoice, {"description": "changed"}),
            "payments": (payment, {"reference": "changed"}), "credit-notes": (credit_note, {"reason": "changed"})}


@pytest.mark.parametrize("resource", ["customers", "invoices", "payments", "credit-notes"])
def test_patch_without_if_match_is_428_and_changes_nothing(api, ledger, resource):
    obj, body = ledger[resource]
    url = f"/api/v1/{resource}/{obj.pk}/"
    before = api.get(url)
    response = api.patch(url, body, format="json")
    assert response.status_code == 428
    error = response.json()["error"]
    assert error["code"] == "precondition_required"
    assert error["message"].startswith("Send the ETag you last read as If-Match")
    assert api.get(url).json() == before.json()


@pytest.mark.parametrize("resource", ["customers", "invoices", "payments", "credit-notes"])
def test_patch_with_the_current_etag_applies_and_a_stale_one_is_412(api, ledger, resource):
    obj, body = ledger[resource]
    url = f"/api/v1/{resource}/{obj.pk}/"
    etag = api.get(url)["ETag"]
    assert api.patch(url, body, format="json", HTTP_IF_MATCH=etag).status_code == 200
    assert api.patch(url, body, format="json", HTTP_IF_MATCH=etag).status_code == 412
