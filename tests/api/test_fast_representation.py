"""List pages take a fast path (named rows -> plain functions -> orjson); it must give what the
serializers and DRF's JSONRenderer give for the same objects, to the byte, so the two cannot drift."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import models
from django.db.models.utils import create_namedtuple_class
from django.utils import timezone
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from receivables import services
from receivables.api import CreditNoteViewSet, CustomerViewSet, InvoiceViewSet, PaymentViewSet, WriteOffViewSet
from receivables.models import Allocation, CreditNote, Customer, Invoice, Payment, WriteOff
from receivables.serializers import (
    AllocationSerializer,
    CreditNoteSerializer,
    CustomerSerializer,
    InvoiceSerializer,
    PaymentSerializer,
    WriteOffSerializer,
)
from tenancy.api.renderers import FastJSONRenderer
from tenancy.api.representation import amount_format, date_format, instant_format, stored_amount_format
from tenancy.money import MINOR_UNITS, quantize
from tests.factories import CustomerFactory, make_invoice, make_payment

# --- strategies ------------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30) | st.sampled_from(
    ["", "上海东方贸易有限公司", "发票 2026-03 号\u2028第二行", 'quote " backslash \\ tab \t', "emoji 🧾"])
AMOUNTS = st.decimals(min_value=0, max_value=Decimal("999999999999999.9999"), places=4, allow_nan=False)
ZONES = st.sampled_from([dt.UTC, ZoneInfo("UTC"), ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"),
                         dt.timezone(dt.timedelta(hours=5, minutes=45))])
INSTANTS = st.builds(lambda naive, zone: naive.replace(tzinfo=zone),
                     st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)), ZONES)
DATES = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))
CURRENCIES = st.sampled_from(sorted(MINOR_UNITS))
IDS = st.integers(min_value=1, max_value=2**31 - 1)


def _named_rows(serializer, values: dict):
    """A row as `.values_list(*values_columns, named=True)` gives it."""
    row_class = create_namedtuple_class(*serializer.values_columns)
    return [row_class(*(values[name] for name in serializer.values_columns))]


def _assert_same(fast: list[dict], slow: list[dict]) -> None:
    # Same keys in the same order, same values, same JSON bytes.
    assert [list(row.items()) for row in fast] == [list(row.items()) for row in slow]
    assert FastJSONRenderer().render(fast) == JSONRenderer().render(slow)


# --- field formats ---------------------------------------------------------------------------


@given(value=AMOUNTS | st.decimals(places=4, min_value=-(10**17), max_value=10**17)
       | st.decimals(places=2, min_value=0, max_value=10**6) | st.integers(0, 10**12)
       | st.decimals(min_value=0, max_value=10**15, allow_nan=False, allow_infinity=False).map(lambda d: d.normalize()))
def test_amount_format_is_amount_field(value):
    field = serializers.DecimalField(max_digits=20, decimal_places=4, coerce_to_string=True)
    try:
        expected = field.to_representation(value)
    except Exception as exc:  # too many digits: both refuse
        with pytest.raises(type(exc)):
            amount_format()(value)
        return
    assert amount_format()(value) == expected


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"),
                                   Decimal("-0"), Decimal("0E-7"), Decimal("1E+3")])
def test_amount_format_is_amount_field_for_special_decimals(value):
    field = serializers.DecimalField(max_digits=20, decimal_places=4, coerce_to_string=True)
    try:
        expected = field.to_representation(value)
    except Exception as exc:
        with pytest.raises(type(exc)):
            amount_format()(value)
        return
    assert amount_format()(value) == expected


@given(value=INSTANTS | st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
       zone=st.sampled_from(["UTC", "Asia/Shanghai", "Europe/London"]))
def test_instant_format_is_datetime_field_in_any_current_zone(value, zone):
    with timezone.override(zone):
        assert instant_format()(value) == serializers.DateTimeField().to_representation(value)


def test_stored_amounts_are_their_str_only_for_not_null_amount_columns():
    assert stored_amount_format(Invoice, "net_amount", "total_amount") is str
    assert stored_amount_format(Payment, "amount", "unapplied_amount") is str
    narrow = SimpleNamespace(_meta=SimpleNamespace(get_field=lambda name: models.DecimalField(
        max_digits=12, decimal_places=2, null=name == "maybe")))
    nullable = SimpleNamespace(_meta=SimpleNamespace(get_field=lambda name: models.DecimalField(
        max_digits=20, decimal_places=4, null=True)))
    for model in (narrow, nullable):
        checked = stored_amount_format(model, "value")
        assert checked is not str
        assert checked(Decimal("1.5")) == "1.5000"
        assert checked(None) is None


@given(value=DATES)
def test_date_format_is_date_field(value):
    assert date_format()(value) == serializers.DateField().to_representation(value)


# --- rows built in memory, every field drawn -------------------------------------------------


@settings(max_examples=200)
@given(ids=st.tuples(IDS, IDS), external_ids=st.tuples(st.none() | TEXT, st.none() | TEXT), number=TEXT,
       dates=st.tuples(DATES, DATES), voided_on=st.none() | DATES, currency=CURRENCIES,
       amounts=st.tuples(AMOUNTS, AMOUNTS, AMOUNTS, AMOUNTS), status=st.sampled_from(
           ["open", "partially_paid", "paid", "void", "written_off"]), texts=st.tuples(TEXT, TEXT),
       instants=st.tuples(INSTANTS, INSTANTS))
def test_invoice_rows_match_the_serializer(ids, external_ids, number, dates, voided_on, currency, amounts, status,
                                           texts, instants):
    net, tax, applied, written_off = amounts
    customer = Customer(pk=ids[1], external_id=external_ids[1], name="x", currency=currency)
    invoice = Invoice(pk=ids[0], external_id=external_ids[0], number=number, customer=customer, issue_date=dates[0],
                      due_date=dates[1], currency=currency, net_amount=net, tax_amount=tax, total_amount=net + tax,
                      applied_amount=applied, written_off_amount=written_off, status=status, voided_on=voided_on,
                      description=texts[0], po_reference=texts[1], created_at=instants[0], updated_at=instants[1])
    values = {**{field.attname: getattr(invoice, field.attname) for field in Invoice._meta.concrete_fields},
              "customer__external_id": customer.external_id}
    serializer = InvoiceSerializer()
    _assert_same(serializer.values_rows(_named_rows(serializer, values)), [InvoiceSerializer(invoice).data])


@settings(max_examples=100)
@given(pk=IDS, external_id=st.none() | TEXT, texts=st.tuples(TEXT, TEXT, TEXT), country=st.sampled_from(["", "CN", "JP"]),
       currency=CURRENCIES, terms=st.integers(0, 3650), language=st.sampled_from(["en", "zh-hans"]),
       emails=st.lists(st.emails() | TEXT, max_size=3), segment=st.sampled_from(["standard", "key", "small"]),
       status=st.sampled_from(["active", "inactive"]), instants=st.tuples(INSTANTS, INSTANTS))
def test_customer_rows_match_the_serializer(pk, external_id, texts, country, currency, terms, language, emails, segment,
                                            status, instants):
    customer = Customer(pk=pk, external_id=external_id, name=texts[0], legal_name=texts[1],
                        registration_number=texts[2], country=country, currency=currency, payment_terms_days=terms,
                        language=language, contact_emails=emails, segment=segment, status=status,
                        created_at=instants[0], updated_at=instants[1])
    values = {name: getattr(customer, name) for name in CustomerSerializer.values_columns}
    serializer = CustomerSerializer()
    _assert_same(serializer.values_rows(_named_rows(serializer, values)), [CustomerSerializer(customer).data])


@settings(max_examples=100)
@given(ids=st.tuples(IDS, IDS, IDS), external_id=st.none() | TEXT, number=TEXT, day=DATES, amounts=st.tuples(AMOUNTS, AMOUNTS),
       currency=CURRENCIES, text=TEXT, instant=INSTANTS, updated=INSTANTS)
def test_credit_note_and_write_off_rows_match_the_serializers(ids, external_id, number, day, amounts, currency, text,
                                                              instant, updated):
    note = CreditNote(pk=ids[0], external_id=external_id, number=number, customer_id=ids[1], issued_on=day,
                      amount=amounts[0], unapplied_amount=amounts[1], currency=currency, reason=text, created_at=instant,
                      updated_at=updated)
    serializer = CreditNoteSerializer()
    values = {name: getattr(note, name) for name in serializer.values_columns}
    _assert_same(serializer.values_rows(_named_rows(serializer, values)), [CreditNoteSerializer(note).data])

    invoice = Invoice(pk=ids[2], number=number)
    write_off = WriteOff(pk=ids[0], invoice=invoice, written_off_on=day, amount=amounts[0], currency=currency,
                         reason=text, created_at=instant, updated_at=updated)
    serializer = WriteOffSerializer()
    values = {"id": ids[0], "invoice_id": ids[2], "invoice__number": number, "written_off_on": day,
              "amount": amounts[0], "currency": currency, "reason": text, "reversed_amount": amounts[1],
              "created_at": instant, "updated_at": updated}
    write_off.reversed_amount = amounts[1]
    _assert_same(serializer.values_rows(_named_rows(serializer, values)), [WriteOffSerializer(write_off).data])


@given(ids=st.tuples(IDS, IDS), links=st.tuples(st.none() | IDS, st.none() | IDS, st.none() | IDS), number=TEXT,
       kind=st.sampled_from(["payment", "credit_note", "write_off"]), amount=AMOUNTS, currency=CURRENCIES, day=DATES)
def test_allocation_rows_match_the_serializer(ids, links, number, kind, amount, currency, day):
    allocation = Allocation(pk=ids[0], kind=kind, invoice=Invoice(pk=ids[1], number=number), payment_id=links[0],
                            credit_note_id=links[1], write_off_id=links[2], amount=amount, currency=currency,
                            applied_on=day, payment_amount=amount, payment_currency=currency, base_amount=None,
                            fx_difference=amount)
    serializer = AllocationSerializer()
    values = {"id": ids[0], "kind": kind, "invoice_id": ids[1], "invoice__number": number, "payment_id": links[0],
              "credit_note_id": links[1], "write_off_id": links[2], "amount": amount, "currency": currency,
              "applied_on": day, "payment_amount": amount, "payment_currency": currency, "base_amount": None,
              "fx_difference": amount, "reverses_id": links[0], "reason": number}
    allocation.reverses_id, allocation.reason = links[0], number
    _assert_same(serializer.values_rows(_named_rows(serializer, values)), [AllocationSerializer(allocation).data])


# --- the renderer ----------------------------------------------------------------------------

JSON_LEAVES = (st.none() | st.booleans() | st.integers() | TEXT | AMOUNTS | INSTANTS | DATES
               | st.builds(gettext_lazy, st.sampled_from(["Not found.", "Invalid cursor: use the next_cursor of a page."])))
JSON_DATA = st.recursive(JSON_LEAVES, lambda children: st.lists(children, max_size=4)
                         | st.dictionaries(TEXT, children, max_size=4), max_leaves=20)


@settings(max_examples=300)
@given(data=JSON_DATA)
def test_renderer_gives_drf_bytes(data):
    # Integers beyond 64 bits, Decimals, datetimes and lazy strings included (DRF's encoder decides those).
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_renderer_floats_mean_the_same(value):
    # The one difference: float spelling (orjson 1e16, json 1e+16); the number is the same.
    assert json.loads(FastJSONRenderer().render({"x": value})) == json.loads(JSONRenderer().render({"x": value}))


def test_renderer_pretty_prints_like_drf_when_asked():
    data = {"results": [{"name": "上海", "at": dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)}]}
    media_type = "application/json; indent=4"
    assert FastJSONRenderer().render(data, media_type) == JSONRenderer().render(data, media_type)
    assert FastJSONRenderer().render(None) == JSONRenderer().render(None) == b""


# --- through the API, on rows the services wrote ---------------------------------------------


@pytest.fixture
def ledger(organization):
    """Customers and every kind of ledger row: JPY/KWD/CNY, void, paid, part-paid, written off, credited."""
    customers = [
        CustomerFactory(organization=organization, name="上海东方贸易有限公司", currency="CNY", external_id="C-1",
                        contact_emails=["ap@example.com", "财务@example.cn"]),
        CustomerFactory(organization=organization, name="Tokyo KK", currency="JPY", external_id=None,
                        contact_emails=[], legal_name="東京株式会社\u2028"),
        CustomerFactory(organization=organization, name="Kuwait Co", currency="KWD", external_id="C-3"),
    ]
    invoices = []
    for index, (customer, amount) in enumerate(
            [(customers[0], "1234.56"), (customers[0], "0.01"), (customers[1], "150000"), (customers[1], "7"),
             (customers[2], "12.345"), (customers[2], "99999999.999"), (customers[0], "500.00"),
             (customers[0], "88.80")]):
        invoices.append(make_invoice(organization, customer, amount=amount, currency=customer.currency,
                                     issue_date=dt.date(2026, 1, 1 + index), external_id=f"ERP-{index}" if index % 2 else None,
                                     description="发票说明 " * index, po_reference=f"PO-{index}" if index % 3 else ""))
    services.invoice_void(organization=organization, invoice=invoices[1], actor=None, reason="作废")
    make_payment(organization, customers[0], amount="1234.56", reference="HSBC 0042")  # pays invoice 0
    make_payment(organization, customers[1], amount="100000", auto_allocate=True, external_id="BANK-1")  # part-pays
    make_payment(organization, customers[2], amount="1.5", auto_allocate=False)  # unapplied, no allocations
    services.credit_note_create(organization=organization, actor=None, customer=customers[0], number="CN-1",
                                issued_on=dt.date(2026, 2, 1), amount=Decimal("100.00"), invoice=invoices[6],
                                reason="退货")
    services.credit_note_create(organization=organization, actor=None, customer=customers[2], number="CN-2",
                                issued_on=dt.date(2026, 2, 2), amount=Decimal("1.000"), external_id="CN-EXT")
    for invoice in (invoices[7], invoices[4]):
        services.invoice_write_off(organization=organization, actor=None, invoice=invoice, reason="坏账 bad debt",
                                   amount=quantize(invoice.total_amount / 3, invoice.currency))
    return customers


@pytest.mark.parametrize("viewset, path", [
    (CustomerViewSet, "/api/v1/customers/"), (InvoiceViewSet, "/api/v1/invoices/"),
    (PaymentViewSet, "/api/v1/payments/"), (CreditNoteViewSet, "/api/v1/credit-notes/"),
    (WriteOffViewSet, "/api/v1/write-offs/"),
])
@pytest.mark.parametrize("ordering", ["default", "-id", "amount"])
def test_list_pages_are_drf_bytes(api, organization, ledger, viewset, path, ordering):
    # given every ordering the resource has, pages of 3 rows
    if ordering == "amount":
        ordering = next(name for name in viewset.ordering_fields if "amount" in name or name == "name")
    params = {"page_size": 3} | ({} if ordering == "default" else {"ordering": ordering})
    seen = 0
    while True:
        # when a page is read through the fast path
        response = api.get(path, params)
        assert response.status_code == 200, response.content
        body = json.loads(response.content)
        # then it is what the serializer and DRF's renderer give for the same model instances
        instances = viewset().scoped_queryset(organization).filter(pk__in=[row["id"] for row in body["results"]])
        by_pk = {instance.pk: instance for instance in instances}
        context = {"organization": organization}
        slow = [viewset.serializer_class(by_pk[row["id"]], context=context).data for row in body["results"]]
        expected = {"next_cursor": body["next_cursor"], "next": body["next"], "results": slow}
        assert response.content == JSONRenderer().render(expected)
        seen += len(body["results"])
        if not body["next_cursor"]:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == viewset().scoped_queryset(organization).count() > 0


def test_payment_allocations_stay_in_their_organization(api, organization, other_organization, ledger):
    # Another organization's allocations never appear, even when asked for through the fast path.
    other = CustomerFactory(organization=other_organization, currency="CNY")
    make_invoice(other_organization, other, amount="10.00")
    make_payment(other_organization, other, amount="10.00")
    serializer = PaymentSerializer(context={"organization": organization})
    assert serializer._allocations_by_payment(list(Payment.objects.values_list("pk", flat=True))).keys() == set(
        Payment.objects.filter(organization=organization, allocations__isnull=False).values_list("pk", flat=True))
    with pytest.raises(RuntimeError, match="no organization"):
        PaymentSerializer(context={})._allocations_by_payment([1])
