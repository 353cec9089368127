"""The bulk rows' fast path (tenancy.api.fastrows) against the row serializers it stands in for:
whatever it accepts, DRF accepts with exactly the same values; what it declines goes to DRF."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from receivables.serializers import InvoiceBulkRowSerializer, PaymentBulkRowSerializer
from tenancy.api.fastrows import FastRows

ROW_SERIALIZERS = [InvoiceBulkRowSerializer, PaymentBulkRowSerializer]

# Values of every shape a client sends: canonical ones, near misses, wrong types.
values = st.one_of(
    st.text(max_size=8),
    st.text(alphabet=" \t\x00\ud800abc中", max_size=4),
    st.sampled_from(["", " ", "INV-1", " INV-1", "INV-1 ", "x" * 64, "x" * 65, "x" * 100, "x" * 101, "x" * 5001,
                     "CNY", "cny", "USD", "JPY", "XXX", "bank_transfer", "cheque", "Bank transfer"]),
    st.sampled_from(["2025-01-31", "2025-02-30", "2025-1-31", "20250131", "2025-01-31T00:00:00", "2025-W01-1",
                     "0001-01-01", "9999-12-31", " 2025-01-31"]),
    st.sampled_from(["0", "0.00", "1", "1.5", "12.3456", "12.34567", "-1", "+1", "1e3", "NaN", "Infinity", ".5",
                     "5.", "00012.10", "1,000.00", "99999999999999.9999", "999999999999999", "1234567890123.12"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    st.integers(min_value=-10, max_value=10**16),
    st.floats(allow_nan=False, allow_infinity=False),
    st.none(),
    st.booleans(),
    st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31)).map(dt.date.isoformat),
    st.lists(st.integers(), max_size=2),
)


CANONICAL = {
    InvoiceBulkRowSerializer: {"external_id": "ERP-1", "number": "INV-1", "customer_external_id": "C1",
                               "issue_date": "2025-01-31", "net_amount": "1.00"},
    PaymentBulkRowSerializer: {"external_id": "P-1", "customer_external_id": "C1", "received_on": "2025-01-31",
                               "amount": "1.00"},
}


def _rows(serializer_class):
    """Random rows, and canonical rows with a few fields changed (so both paths are exercised)."""
    names = list(serializer_class().fields)
    changes = st.dictionaries(st.sampled_from([*names, "unknown"]), values, max_size=len(names) + 1)
    plausible = st.one_of(  # mostly well-formed for one field or another
        st.sampled_from(["2025-01-31", "2024-02-29", "2023-02-29", "1.5", "0", "0.0001", "12.3456", "12.34567",
                         "99999999999999.9999", "USD", "JPY", "INV-2", "bank_transfer", "cheque", "", "x" * 64,
                         "x" * 100]),
        st.text(alphabet="abXY-0123456789.", min_size=1, max_size=12),
        st.decimals(min_value=0, max_value=10**9, places=4).map(str),
    )
    few = st.dictionaries(st.sampled_from([*names, "unknown"]), plausible, max_size=4)
    return st.one_of(changes, few.map(lambda change: {**CANONICAL[serializer_class], **change}))


def _same(fast: dict, slow: dict) -> None:
    assert fast.keys() == slow.keys()
    for name, value in fast.items():
        assert type(value) is type(slow[name]), name
        assert str(value) == str(slow[name]), name  # Decimal("1.50") != Decimal("1.5000") here


@pytest.mark.parametrize("serializer_class", ROW_SERIALIZERS, ids=lambda c: c.__name__)
def test_the_fast_path_is_on_for_the_bulk_rows(serializer_class):
    assert FastRows(serializer_class()).enabled


@pytest.mark.parametrize("serializer_class", ROW_SERIALIZERS, ids=lambda c: c.__name__)
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_what_the_fast_path_accepts_drf_accepts_with_the_same_values(serializer_class, data):
    row = data.draw(_rows(serializer_class))
    serializer = serializer_class()
    fast = FastRows(serializer).parse(row)
    event("fast" if fast is not None else "declined")
    if fast is None:
        return  # declined: the serializer decides, with its own messages
    _same(fast, dict(serializer.run_validation(row)))


def test_a_canonical_invoice_row_takes_the_fast_path_with_drf_values():
    row = {"external_id": "ERP-1", "number": "INV-1", "customer_external_id": "C1", "issue_date": "2025-01-31",
           "due_date": "2025-03-02", "currency": "USD", "net_amount": "100.5", "tax_amount": "0",
           "description": "", "po_reference": "PO-7"}
    serializer = InvoiceBulkRowSerializer()
    fast = FastRows(serializer).parse(row)
    assert fast is not None
    assert fast["net_amount"] == Decimal("100.5000") and str(fast["net_amount"]) == "100.5000"
    assert fast["issue_date"] == dt.date(2025, 1, 31)
    _same(fast, dict(serializer.run_validation(row)))


@pytest.mark.parametrize(("change", "drf_accepts"), [
    ({"net_amount": 100.5}, False), ({"net_amount": "-1"}, False), ({"number": ""}, False),
    ({"issue_date": "2025-02-30"}, False), ({"currency": "XXX"}, False), ({"number": "x" * 65}, False),
    ({"external_id": None}, False), ({"number": "A\x00B"}, False),
    ({"number": " INV-1"}, True),  # DRF trims it: the fast path leaves that to DRF
    ({"net_amount": 1}, True),  # an integer amount: DRF's call too
])
def test_anything_off_the_canonical_shape_goes_to_drf(change, drf_accepts):
    row = {"external_id": "ERP-1", "number": "INV-1", "customer_external_id": "C1", "issue_date": "2025-01-31",
           "net_amount": "1.00", **change}
    assert FastRows(InvoiceBulkRowSerializer()).parse(row) is None
    if drf_accepts:
        assert InvoiceBulkRowSerializer().run_validation(row)["number"] == "INV-1"
    else:
        with pytest.raises(serializers.ValidationError):
            InvoiceBulkRowSerializer().run_validation(row)


def test_a_serializer_with_its_own_validation_is_never_fast():
    class Checked(serializers.Serializer):
        name = serializers.CharField()

        def validate_name(self, value):
            return value.upper()

    assert not FastRows(Checked()).enabled
    assert FastRows(Checked()).parse({"name": "a"}) is None
