"""Incremental sync of credit notes and write-offs: `updated_since` + cursor sees new rows and
corrections (PATCH, applications), in the (updated_at, id) order of the other lists."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from receivables import services
from receivables.models import CreditNote, WriteOff
from tests.api.conftest import error_of
from tests.factories import make_invoice

pytestmark = pytest.mark.django_db

DAY1, DAY2, DAY3 = (dt.datetime(2026, 3, day, 8, 0, tzinfo=dt.UTC) for day in (1, 2, 3))
SYNCED_AT = "2026-03-02T00:00:00+00:00"  # the ERP's previous sync ran between DAY1 and DAY2


def _pages(api, url, params):
    ids, response = [], api.get(url, params)
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        ids += [row["id"] for row in body["results"]]
        if body["next_cursor"] is None:
            return ids
        response = api.get(url, {**params, "cursor": body["next_cursor"]})


@pytest.fixture
def invoice(organization, acme_customer):
    return make_invoice(organization, acme_customer, amount="1000.00", issue_date=dt.date(2026, 1, 1))


def _note(organization, customer, number):
    return services.credit_note_create(organization=organization, actor=None, customer=customer, number=number,
                                       issued_on=dt.date(2026, 1, 10), amount="10.00", reason="price")


def _write_off(organization, invoice, reason):
    return services.invoice_write_off(organization=organization, actor=None, invoice=invoice, reason=reason,
                                      amount="5.00", written_off_on=dt.date(2026, 2, 1))


# --- credit notes ----------------------------------------------------------------------------------

def test_a_credit_note_corrected_after_a_sync_is_in_the_next_updated_since_page(api, organization, acme_customer):
    with time_machine.travel(DAY1, tick=False):
        corrected, untouched = (_note(organization, acme_customer, n) for n in ("CN-1", "CN-2"))
    url = f"/api/v1/credit-notes/{corrected.pk}/"
    with time_machine.travel(DAY2, tick=False):
        response = api.patch(url, {"reason": "volume rebate"}, format="json", HTTP_IF_MATCH=api.get(url).headers["ETag"])
        assert response.status_code == 200, response.json()
        new = _note(organization, acme_customer, "CN-3")

    assert _pages(api, "/api/v1/credit-notes/", {"updated_since": SYNCED_AT}) == [corrected.pk, new.pk]
    assert CreditNote.objects.get(pk=untouched.pk).updated_at == DAY1
    assert CreditNote.objects.get(pk=corrected.pk).updated_at == DAY2


def test_applying_a_credit_note_marks_it_updated(api, organization, acme_customer, invoice):
    with time_machine.travel(DAY1, tick=False):
        note = _note(organization, acme_customer, "CN-1")
    with time_machine.travel(DAY2, tick=False):
        services.credit_note_apply(organization=organization, actor=None, credit_note=note,
                                   allocations=[(invoice, Decimal("4.00"))])

    rows = api.get("/api/v1/credit-notes/", {"updated_since": SYNCED_AT}).json()["results"]
    assert [(row["id"], row["unapplied_amount"]) for row in rows] == [(note.pk, "6.0000")]


def test_credit_notes_page_in_updated_at_order_without_gaps_or_repeats(api, organization, acme_customer):
    with time_machine.travel(DAY1, tick=False):
        notes = [_note(organization, acme_customer, f"CN-{n}") for n in range(7)]
    with time_machine.travel(DAY2, tick=False):
        services.credit_note_update(organization=organization, credit_note=notes[0], actor=None, reason="moved last")
    first = api.get("/api/v1/credit-notes/", {"page_size": 3}).json()
    # A note already read is corrected while the ERP pages: it comes again, at the end.
    with time_machine.travel(DAY3, tick=False):
        services.credit_note_update(organization=organization, credit_note=notes[1], actor=None, reason="later")

    rest = _pages(api, "/api/v1/credit-notes/", {"page_size": 3, "cursor": first["next_cursor"]})

    assert [row["id"] for row in first["results"]] == [n.pk for n in notes[1:4]]
    assert rest == [n.pk for n in notes[4:]] + [notes[0].pk, notes[1].pk]


def test_credit_notes_created_since_still_filters_on_creation(api, organization, acme_customer):
    with time_machine.travel(DAY1, tick=False):
        old = _note(organization, acme_customer, "CN-1")
    with time_machine.travel(DAY2, tick=False):
        services.credit_note_update(organization=organization, credit_note=old, actor=None, reason="changed")
        new = _note(organization, acme_customer, "CN-2")

    rows = api.get("/api/v1/credit-notes/", {"created_since": SYNCED_AT}).json()["results"]

    assert [row["id"] for row in rows] == [new.pk]


# --- write-offs ------------------------------------------------------------------------------------

def test_a_write_off_corrected_after_a_sync_is_in_the_next_updated_since_page(api, organization, invoice):
    with time_machine.travel(DAY1, tick=False):
        corrected, untouched = (_write_off(organization, invoice, r) for r in ("insolvent", "settlement"))
    url = f"/api/v1/write-offs/{corrected.pk}/"
    with time_machine.travel(DAY2, tick=False):
        response = api.patch(url, {"reason": "insolvent (case 17)"}, format="json",
                             HTTP_IF_MATCH=api.get(url).headers["ETag"])
        assert response.status_code == 200, response.json()
        new = _write_off(organization, invoice, "small balance")

    assert _pages(api, "/api/v1/write-offs/", {"updated_since": SYNCED_AT, "page_size": 1}) == [corrected.pk, new.pk]
    assert WriteOff.objects.get(pk=untouched.pk).updated_at == DAY1
    assert WriteOff.objects.get(pk=corrected.pk).updated_at == DAY2


def test_write_offs_created_since_still_filters_on_creation(api, organization, invoice):
    with time_machine.travel(DAY1, tick=False):
        old = _write_off(organization, invoice, "insolvent")
    with time_machine.travel(DAY2, tick=False):
        services.write_off_update(organization=organization, write_off=old, actor=None, reason="changed")
        new = _write_off(organization, invoice, "settlement")

    rows = api.get("/api/v1/write-offs/", {"created_since": SYNCED_AT}).json()["results"]

    assert [row["id"] for row in rows] == [new.pk]


@pytest.mark.parametrize("url", ["/api/v1/credit-notes/", "/api/v1/write-offs/"])
def test_credit_note_and_write_off_lists_order_like_the_other_lists(api, url):
    response = api.get(url, {"ordering": "external_id"})

    assert response.status_code == 400
    assert error_of(response)["fields"]["ordering"][0]["message"].startswith("Order by one of: updated_at, id, ")
