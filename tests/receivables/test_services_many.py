"""invoices_create_many (the set-based write behind bulk upserts and imports) keeps
invoice_create's rules, and tenancy.db.objects_insert stores exactly what bulk_create stores."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit import services as credit_services
from credit.models import AlertKind, CreditAlert, HoldMode
from receivables import services
from receivables.models import Invoice
from tenancy.db import objects_insert
from tenancy.errors import DomainError, ErrorCode, PermissionDenied, RowsInvalid
from tenancy.models import AuditEntry, WebhookEvent
from tenancy.selectors import audit_verify
from tenancy.services import audit_record
from tests.factories import CustomerFactory, make_invoice

D = Decimal
TODAY = dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def _row(customer, n, **changes):
    return {"customer": customer, "number": f"INV-{n}", "issue_date": dt.date(2026, 3, 1), "net_amount": D("100.00"),
            "tax_amount": D("13.00"), "external_id": f"ERP-{n}", **changes}


def test_many_invoices_get_the_same_fields_audit_and_events_as_one(organization, customer, collector):
    one = services.invoice_create(organization=organization, actor=collector, **_row(customer, 0))
    many = services.invoices_create_many(organization=organization, actor=collector,
                                         rows=[_row(customer, n) for n in range(1, 4)])

    fields = ("customer_id", "issue_date", "due_date", "currency", "net_amount", "tax_amount", "total_amount",
              "applied_amount", "status", "description", "po_reference")
    stored = list(Invoice.objects.filter(organization=organization).order_by("pk").values(*fields))
    assert stored == [stored[0]] * 4  # the same invoice apart from its number
    assert [i.pk for i in many] == list(Invoice.objects.filter(number__in=["INV-1", "INV-2", "INV-3"])
                                        .order_by("pk").values_list("pk", flat=True))
    assert stored[0]["due_date"] == dt.date(2026, 3, 31)  # issue date + the customer's 30 days
    entries = list(AuditEntry.objects.filter(organization=organization, action="invoice.created").order_by("sequence"))
    assert [e.object_id for e in entries] == [str(one.pk)] + [str(i.pk) for i in many]
    assert entries[1].after == {**entries[0].after, "number": "INV-1", "external_id": "ERP-1"}
    assert audit_verify(organization).ok
    events = WebhookEvent.objects.filter(organization=organization, type="invoice.created").order_by("pk")
    assert [e.payload["number"] for e in events] == ["INV-0", "INV-1", "INV-2", "INV-3"]
    assert events[1].payload.keys() == events[0].payload.keys()
    assert events[1].payload["total_amount"] == events[0].payload["total_amount"] == "113.0000"


def test_the_chain_goes_on_after_a_bulk_write(organization, customer, collector):
    services.invoices_create_many(organization=organization, actor=collector,
                                  rows=[_row(customer, n) for n in range(5)])
    audit_record(organization=organization, actor=collector, action="test.after", obj=customer, after={"x": "1"})

    verification = audit_verify(organization)
    assert verification.ok and verification.checked == AuditEntry.objects.filter(organization=organization).count()


def test_bad_rows_are_all_named_and_nothing_is_written(organization, customer, collector):
    rows = [_row(customer, 1), _row(customer, 2, net_amount=D("0")), _row(customer, 3, number="  "),
            _row(customer, 4, due_date=dt.date(2026, 2, 1)), _row(customer, 5, currency="XYZ"),
            _row(customer, 6, po_reference="P" * 101)]

    with pytest.raises(RowsInvalid) as error:
        services.invoices_create_many(organization=organization, actor=collector, rows=rows)

    assert {index: [e.field for e in errors] for index, errors in error.value.rows.items()} == {
        1: ["net_amount"], 2: ["number"], 3: ["due_date"], 4: ["currency"], 5: ["po_reference"]}
    assert not Invoice.objects.filter(organization=organization).exists()
    assert not AuditEntry.objects.filter(organization=organization, action="invoice.created").exists()


def test_a_customer_of_another_organization_is_refused(organization, other_organization, collector):
    stranger = CustomerFactory(organization=other_organization)
    with pytest.raises(RowsInvalid) as error:
        services.invoices_create_many(organization=organization, actor=collector, rows=[_row(stranger, 1)])
    assert error.value.rows[0][0].code == ErrorCode.NOT_FOUND
    assert not Invoice.objects.exists()


def test_viewers_cannot_create_invoices_in_bulk(organization, customer, viewer):
    with pytest.raises(PermissionDenied):
        services.invoices_create_many(organization=organization, actor=viewer, rows=[_row(customer, 1)])


def test_a_number_taken_meanwhile_is_a_duplicate_and_nothing_is_written(organization, customer, collector):
    make_invoice(organization, customer, number="INV-2")
    with pytest.raises(DomainError) as error:
        services.invoices_create_many(organization=organization, actor=collector,
                                      rows=[_row(customer, 1), _row(customer, 2)])
    assert error.value.code == ErrorCode.DUPLICATE
    assert list(Invoice.objects.filter(organization=organization).values_list("number", flat=True)) == ["INV-2"]


def _limit(organization, customer, amount):
    credit_services.profile_ensure(organization=organization, customer=customer)
    credit_services.credit_limit_apply(organization=organization, actor=None, customer=customer, limit=D(amount),
                                       terms_days=customer.payment_terms_days, source="test")


def test_credit_hold_counts_all_of_a_customers_new_invoices_together(organization, customer, collector):
    _limit(organization, customer, "300.00")
    other = CustomerFactory(organization=organization, name="Other")
    rows = [_row(customer, 1), _row(other, 2), _row(customer, 3), _row(customer, 4)]  # 3 x 113.00 > 300.00

    with pytest.raises(RowsInvalid) as error:
        services.invoices_create_many(organization=organization, actor=collector, rows=rows)

    assert sorted(error.value.rows) == [0, 2, 3]  # every row of the held customer, none of the other's
    message = error.value.rows[0][0].message
    assert error.value.rows[0][0].code == ErrorCode.CREDIT_HOLD
    assert "plus this invoice (339.00 CNY) exceeds the credit limit of 300.00 CNY" in message
    assert not Invoice.objects.filter(organization=organization).exists()
    services.invoices_create_many(organization=organization, actor=collector, rows=rows[:3])  # 226.00: fine


def test_warn_mode_creates_them_with_a_warning_and_one_alert(organization, customer, collector, admin_user):
    credit_services.policy_update(organization=organization, actor=admin_user, hold_mode=HoldMode.WARN)
    _limit(organization, customer, "100.00")

    invoices = services.invoices_create_many(organization=organization, actor=collector,
                                             rows=[_row(customer, 1), _row(customer, 2)])

    assert all(i.credit_warning and "is on credit hold" in i.credit_warning for i in invoices)
    assert CreditAlert.objects.filter(organization=organization, kind=AlertKind.HOLD_WARNING).count() == 1


def test_the_statements_do_not_grow_with_the_rows(organization, customer, collector):
    def statements(count, start):
        with CaptureQueriesContext(connection) as queries:
            services.invoices_create_many(organization=organization, actor=collector,
                                          rows=[_row(customer, start + n) for n in range(count)])
        return len(queries)

    statements(1, 1000)  # the organization's first audit entry creates its chain's lock row
    assert statements(3, 0) == statements(300, 100)


# --- objects_insert ------------------------------------------------------------------------

AWKWARD = "tab\there, line\nbreak, cr\rback\\slash, \\N, 中文, 'quote' \"double\", emoji 🧾"


def _stored(model, pks, exclude=("id",)):
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]
    return [tuple(row) for row in model.objects.filter(pk__in=pks).order_by("pk").values_list(*fields)]


def test_objects_insert_stores_what_bulk_create_stores(organization, customer):
    def invoice(number, **fields):
        return Invoice(organization=organization, customer=customer, number=number, issue_date=dt.date(2026, 1, 2),
                       due_date=dt.date(2026, 2, 1), currency="JPY", net_amount=D("12345"), tax_amount=D("0.0001"),
                       total_amount=D("12345.0001"), description=AWKWARD, po_reference="", **fields)

    copied = objects_insert([invoice("A-1", external_id=None), invoice("A-2", external_id="A" + AWKWARD[:99])])
    created = Invoice.objects.bulk_create([invoice("B-1", external_id=None), invoice("B-2", external_id="B" + AWKWARD[:99])])

    assert all(i.pk and not i._state.adding for i in copied)
    assert Invoice.objects.get(pk=copied[1].pk).external_id == "A" + AWKWARD[:99]
    skip = ("id", "number", "external_id", "created_at", "updated_at")
    assert _stored(Invoice, [i.pk for i in copied], skip) == _stored(Invoice, [i.pk for i in created], skip)
    assert Invoice.objects.get(pk=copied[0].pk).created_at is not None  # auto_now_add applied


def test_objects_insert_stores_json_and_uuids_as_bulk_create_does(organization):
    import uuid

    payloads = [{"text": AWKWARD, "nested": {"list": [1, "2", None, True], "empty": {}}, "amount": "1.50"}, {}, []]

    def events():
        return [WebhookEvent(organization=organization, event_id=uuid.uuid4(), type="invoice.created",
                             payload=payload, created_at=dt.datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=dt.UTC))
                for payload in payloads]

    copied, created = objects_insert(events()), WebhookEvent.objects.bulk_create(events())

    skip = ("id", "event_id")
    assert _stored(WebhookEvent, [e.pk for e in copied], skip) == _stored(WebhookEvent, [e.pk for e in created], skip)
    assert [WebhookEvent.objects.get(pk=e.pk).event_id for e in copied] == [e.event_id for e in copied]
