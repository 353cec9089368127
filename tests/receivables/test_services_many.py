"""invoices_create_many (the set-based write behind bulk upserts and imports) keeps
invoice_create's rules, and tenancy.db.objects_insert stores exactly what bulk_create stores."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from credit import services as credit_services
from credit.models import AlertKind, CreditAlert, HoldMode
from receivables import services
from receivables.models import Allocation, Customer, Invoice, Payment
from tenancy.db import RawJson, columns_insert, objects_insert
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


@given(amounts=st.lists(st.decimals(min_value=D("0.01"), max_value=D("99999999.99"), places=2), min_size=1,
                        max_size=4),  # CNY: no finer than the fen (ISO 4217 minor unit, issue 12)
       text=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_many_at_once_events_carry_the_apis_representation_of_the_stored_invoice(organization, customer, collector,
                                                                                   amounts, text):
    """The events of invoices_create_many/invoices_update_many are built from the objects in memory,
    not read back: each payload must still be what the API shows for the stored invoice."""
    import orjson

    from receivables.serializers import InvoiceSerializer

    def api_view(invoice_ids):
        invoices = Invoice.objects.filter(pk__in=invoice_ids).select_related("customer").order_by("pk")
        return orjson.loads(orjson.dumps(InvoiceSerializer(invoices, many=True).data))

    def payloads(type_, since):
        return [e.payload for e in WebhookEvent.objects.filter(organization=organization, type=type_, pk__gt=since)
                .order_by("pk")]

    since = WebhookEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    stamp = Invoice.objects.count()
    created = services.invoices_create_many(organization=organization, actor=collector, rows=[
        _row(customer, f"{stamp}-{n}", net_amount=amount, tax_amount=D("0"), description=text)
        for n, amount in enumerate(amounts)])
    assert payloads("invoice.created", since) == api_view([i.pk for i in created])

    services.invoices_update_many(organization=organization, actor=collector, changes=[
        (Invoice.objects.get(pk=invoice.pk), {"net_amount": amount + D("1"), "description": text + "!"})
        for invoice, amount in zip(created, amounts, strict=True)])
    assert payloads("invoice.updated", since) == api_view([i.pk for i in created])


def test_a_nul_character_is_a_clear_error_one_at_a_time_and_many_at_once(organization, customer, collector):
    """PostgreSQL text cannot hold 0x00: the services name the field instead of failing in the database."""
    with pytest.raises(DomainError) as one:
        services.invoice_create(organization=organization, actor=collector, **_row(customer, 1, description="a\x00b"))
    with pytest.raises(RowsInvalid) as many:
        services.invoices_create_many(organization=organization, actor=collector,
                                      rows=[_row(customer, 2), _row(customer, 3, po_reference="\x00")])
    invoice = make_invoice(organization, customer, number="INV-OK")
    with pytest.raises(DomainError) as update:
        services.invoice_update(organization=organization, invoice=invoice, actor=collector, description="\x00")
    with pytest.raises(RowsInvalid) as update_many:
        services.invoices_update_many(organization=organization, actor=collector,
                                      changes=[(invoice, {"external_id": "E\x00"})])

    assert (one.value.field, list(many.value.rows), many.value.rows[1][0].field) == ("description", [1], "po_reference")
    assert (update.value.field, update_many.value.rows[0][0].field) == ("description", "external_id")
    assert "NUL" in str(one.value) and Invoice.objects.filter(organization=organization).count() == 1
    assert Invoice.objects.get(pk=invoice.pk).description == ""


def test_a_negative_zero_tax_is_zero_in_the_event_and_the_api(organization, customer, collector):
    """-0.00 parses as 0.00: the event built from memory printed "-0.0000" where the API shows "0.0000"."""
    from tenancy.money import parse_amount

    assert str(parse_amount("-0.00", allow_zero=True)) == "0.00"
    invoice = services.invoices_create_many(organization=organization, actor=collector,
                                            rows=[_row(customer, 1, tax_amount="-0.00")])[0]
    event = WebhookEvent.objects.get(organization=organization, type="invoice.created")
    assert event.payload["tax_amount"] == "0.0000" and Invoice.objects.get(pk=invoice.pk).tax_amount == 0


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


def test_columns_insert_stores_what_bulk_create_stores(organization):
    import json
    import uuid

    import numpy as np

    # given: awkward text, empty and NULL text, JSON, UUIDs, a value for every row and numpy columns
    payloads = [{"text": AWKWARD, "nested": {"list": [1, "2", None, True]}}, {}, [AWKWARD, ""]]
    ids = [uuid.uuid4() for _ in payloads]
    keys = [AWKWARD, "", None]
    at = dt.datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=dt.UTC)

    # when
    columns_insert(WebhookEvent, {"organization_id": np.array([organization.pk] * 3), "event_id": [str(i) for i in ids],
                                  "type": "invoice.created", "payload": [RawJson(json.dumps(p)) for p in payloads],
                                  "dedupe_key": keys, "created_at": at.isoformat()}, count=3)
    created = WebhookEvent.objects.bulk_create(
        WebhookEvent(organization=organization, event_id=uuid.uuid4(), type="invoice.created", payload=payload,
                     dedupe_key=None if key is None else f"B{key}", created_at=at)
        for payload, key in zip(payloads, keys, strict=True))

    # then: the same values as bulk_create's rows ('' stays '', None is NULL)
    copied = list(WebhookEvent.objects.filter(event_id__in=ids).order_by("pk"))
    assert [e.event_id for e in copied] == ids
    assert [e.dedupe_key for e in copied] == keys
    skip = ("id", "event_id", "dedupe_key")
    assert _stored(WebhookEvent, [e.pk for e in copied], skip) == _stored(WebhookEvent, [e.pk for e in created], skip)
    with pytest.raises(ValueError, match="3 values"):
        columns_insert(WebhookEvent, {"organization_id": [organization.pk] * 2, "type": "x"}, count=3)


@pytest.mark.parametrize("values", [[], ["A-1"], ["A-1", "A-2", "missing"],
                                    ["x'y", 'q"uote', "{brace}", "a,b", "back\\slash", "中文", "NULL", ""]])
def test_filter_in_finds_what_in_finds(organization, customer, values):
    from tenancy.db import filter_in

    for number in ["A-1", "A-2", "B-1", *values]:
        if number != "missing" and not Invoice.objects.filter(number=number).exists():
            make_invoice(organization, customer, number=number)
    invoices = Invoice.objects.filter(organization=organization)

    found = sorted(filter_in(invoices, "number", values).values_list("number", flat=True))

    assert found == sorted(invoices.filter(number__in=values).values_list("number", flat=True))
    assert found == sorted(set(values) - {"missing", ""})  # make_invoice numbers "" itself
    # Values are prepared by the field, as __in prepares them: an id given as text is an id.
    ids = [str(pk) for pk in invoices.values_list("pk", flat=True)[:2]]
    assert sorted(filter_in(invoices, "pk", ids).values_list("pk", flat=True)) == sorted(
        invoices.filter(pk__in=ids).values_list("pk", flat=True))


def test_object_builder_makes_what_the_keyword_constructor_makes(organization, customer):
    from tenancy.db import object_builder
    from tenancy.models import WebhookDelivery

    names = ("organization_id", "customer_id", "number", "issue_date", "due_date", "net_amount", "total_amount")
    values = (organization.pk, customer.pk, "A-1", dt.date(2026, 1, 2), dt.date(2026, 2, 1), D("5"), D("5"))
    built, made = object_builder(Invoice, names)(*values), Invoice(**dict(zip(names, values, strict=True)))

    def fields(obj):
        return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}

    assert fields(built) == fields(made) and built._state.adding and built.pk is None
    assert set(vars(built)) == set(vars(made)) and (built._state.db, made._state.db) == (None, None)
    assert fields(built)["status"] == "open" and fields(built)["applied_amount"] == 0  # defaults
    # A callable default gives every object its own value (attempt_log=list).
    build = object_builder(WebhookDelivery, ("organization_id",))
    first, second = build(organization.pk), build(organization.pk)
    assert first.attempt_log == [] and first.attempt_log is not second.attempt_log
    with pytest.raises(ValueError, match="customer"):
        object_builder(Invoice, ("customer",))  # the attname is customer_id


def test_object_builder_runs_the_constructor_when_something_listens_to_its_signals(organization, customer):
    from django.db.models.signals import post_init

    from tenancy.db import object_builder

    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance.number)

    post_init.connect(listener, sender=Invoice)
    try:
        built = object_builder(Invoice, ("organization_id", "customer_id", "number"))(organization.pk, customer.pk, "S-1")
    finally:
        post_init.disconnect(listener, sender=Invoice)
    assert seen == ["S-1"] and built.status == "open" and built.customer_id == customer.pk


def test_objects_update_saves_what_bulk_update_saves_and_only_in_the_queryset(organization, other_organization):
    from tenancy.db import objects_update

    def customers(org, prefix):
        return [CustomerFactory(organization=org, name=f"{prefix}{n}", currency="CNY") for n in range(3)]

    def change(rows):
        for n, customer in enumerate(rows):
            customer.name = AWKWARD[:150] + str(n)
            customer.contact_emails = [f"ap{n}@example.com", "中文@example.com"] if n else []
            customer.payment_terms_days = 45 + n
            customer.legal_name = "" if n else "Legal \\N 'x'"
            customer.updated_at = dt.datetime(2026, 3, 1, 8, 30, n, 123456, tzinfo=dt.UTC)
        return rows

    fields = ["name", "contact_emails", "payment_terms_days", "legal_name", "updated_at"]
    mine, theirs = change(customers(organization, "A")), change(customers(organization, "B"))
    foreign = customers(other_organization, "C")
    foreign_before = _stored(Customer, [c.pk for c in foreign])

    objects_update(Customer.objects.filter(organization=organization), mine, fields)
    Customer.objects.filter(organization=organization).bulk_update(theirs, fields)
    # Another organization's rows passed in are not touched: the queryset's filter applies.
    objects_update(Customer.objects.filter(organization=organization), change(foreign), fields)

    skip = ("id", "external_id", "name", "created_at")
    assert _stored(Customer, [c.pk for c in mine], skip) == _stored(Customer, [c.pk for c in theirs], skip)
    assert [c.name for c in Customer.objects.filter(pk__in=[c.pk for c in mine]).order_by("pk")] == [
        AWKWARD[:150] + str(n) for n in range(3)]
    assert _stored(Customer, [c.pk for c in foreign]) == foreign_before
    # No filter at all updates the objects given; an empty queryset none of them.
    mine[0].name = "Unfiltered"
    objects_update(Customer.objects.all(), mine[:1], ["name"])
    mine[1].name = "Never"
    objects_update(Customer.objects.none(), mine[1:2], ["name"])
    assert [c.name for c in Customer.objects.filter(pk__in=[mine[0].pk, mine[1].pk]).order_by("pk")] == [
        "Unfiltered", AWKWARD[:150] + "1"]


def test_objects_update_refuses_a_value_too_long_instead_of_cutting_it(organization):
    from django.db import DataError

    from tenancy.db import objects_update

    customer = CustomerFactory(organization=organization, name="Short")
    customer.name = "x" * 201  # the column is varchar(200)
    with pytest.raises(DataError), transaction.atomic():
        objects_update(Customer.objects.filter(organization=organization), [customer], ["name"])
    assert Customer.objects.get(pk=customer.pk).name == "Short"


# --- payments_record_many --------------------------------------------------------------------

def _ledger(organization, customers, invoices):
    """Invoices (customer index, amount, issue day, due day) issued in `organization`."""
    made = []
    for n, (who, amount, issue, due) in enumerate(invoices):
        made.append(services.invoice_create(
            organization=organization, actor=None, customer=customers[who], number=f"INV-{n}",
            issue_date=dt.date(2026, 1, 1) + dt.timedelta(days=issue),
            due_date=dt.date(2026, 1, 1) + dt.timedelta(days=issue + due), net_amount=amount))
    return made


def _outcome(organization):
    allocations = sorted(Allocation.objects.filter(organization=organization).values_list(
        "payment__external_id", "invoice__number", "amount", "applied_on"))
    invoices = sorted(Invoice.objects.filter(organization=organization).values_list(
        "number", "applied_amount", "status"))
    payments = sorted(Payment.objects.filter(organization=organization).values_list(
        "external_id", "amount", "unapplied_amount", "received_on"))
    return allocations, invoices, payments


amounts = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)


def _one_by_one_and_many_at_once(setup, one_by_one, many_at_once, outcome) -> list:
    """The same work done both ways, each in a fresh organization inside a rolled-back transaction:
    `work = setup(organization)`, then `one_by_one(organization, work)` or `many_at_once(organization,
    work)`. Returns both outcomes: `outcome(organization)`, or ("refused", the first error's code).
    Every audit chain must verify."""
    from tests.factories import OrganizationFactory

    results = []
    for write in (one_by_one, many_at_once):
        with transaction.atomic():
            organization = OrganizationFactory()
            work = setup(organization)
            try:
                write(organization, work)
                result = outcome(organization)
            except DomainError as error:
                result = ("refused", error.code if not isinstance(error, RowsInvalid)
                          else next(iter(error.rows.values()))[0].code)
            assert audit_verify(organization).ok
            results.append(result)
            transaction.set_rollback(True)
    event("refused" if results[0][0] == "refused" else "written")
    return results


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(invoices=st.lists(st.tuples(st.integers(0, 1), amounts, st.integers(0, 60), st.integers(0, 60)),
                         min_size=1, max_size=8),
       payments=st.lists(st.tuples(st.integers(0, 1), amounts, st.integers(0, 90), st.none() | st.integers(0, 7)),
                         min_size=1, max_size=8))
def test_many_payments_settle_exactly_as_one_after_another(db, invoices, payments):
    def setup(organization):
        customers = [CustomerFactory(organization=organization, currency="CNY") for _ in range(2)]
        made = _ledger(organization, customers, invoices)
        rows = []
        for n, (who, amount, day, target) in enumerate(payments):
            invoice = made[target] if target is not None and target < len(made) else None
            if invoice is not None:  # an explicit payment goes to an invoice of its own customer, in full
                who = customers.index(next(c for c in customers if c.pk == invoice.customer_id))
            rows.append({"customer": customers[who], "received_on": dt.date(2026, 1, 1) + dt.timedelta(days=day),
                         "amount": amount, "external_id": f"P-{n}", "invoice": invoice})
        return rows

    def one_by_one(organization, rows):
        with transaction.atomic():
            for row in rows:
                invoice = row.pop("invoice")
                payment = services.payment_record(organization=organization, actor=None,
                                                  auto_allocate=invoice is None, **row)
                if invoice is not None:
                    services.payment_allocate(organization=organization, actor=None, payment=payment,
                                              allocations=[(invoice, payment.amount)])

    def many_at_once(organization, rows):
        services.payments_record_many(organization=organization, actor=None, rows=rows)

    first, second = _one_by_one_and_many_at_once(setup, one_by_one, many_at_once, _outcome)
    assert second == first


def test_many_payments_refuse_every_bad_row_and_write_nothing(organization, customer, collector):
    other = CustomerFactory(organization=organization, name="Other")
    usd = CustomerFactory(organization=organization, name="Dollar", currency="USD")
    invoice = make_invoice(organization, customer, amount="100.00", number="INV-1")
    void = make_invoice(organization, customer, amount="50.00", number="INV-V")
    services.invoice_void(organization=organization, actor=None, invoice=void)
    rows = [
        {"customer": customer, "received_on": dt.date(2026, 3, 1), "amount": D("60.00"), "invoice": invoice},
        {"customer": customer, "received_on": dt.date(2026, 3, 1), "amount": D("60.00"), "invoice": invoice},  # 40 left
        {"customer": other, "received_on": dt.date(2026, 3, 1), "amount": D("1.00"), "invoice": invoice},
        {"customer": usd, "received_on": dt.date(2026, 3, 1), "amount": D("1.00"), "currency": "USD",
         "invoice": make_invoice(organization, customer, amount="5.00", number="INV-2")},
        {"customer": customer, "received_on": dt.date(2026, 3, 1), "amount": D("1.00"), "invoice": void},
        {"customer": customer, "received_on": dt.date(2026, 3, 1), "amount": D("0")},
        {"customer": customer, "received_on": dt.date(2026, 3, 1), "amount": D("1.00"), "method": "barter"},
    ]

    with pytest.raises(RowsInvalid) as error:
        services.payments_record_many(organization=organization, actor=collector, rows=rows)

    codes = {index: errors[0].code for index, errors in error.value.rows.items()}
    assert codes == {1: ErrorCode.OVER_APPLICATION, 2: ErrorCode.CUSTOMER_MISMATCH, 3: ErrorCode.CUSTOMER_MISMATCH,
                     4: ErrorCode.INVOICE_NOT_OPEN, 5: ErrorCode.INVALID, 6: ErrorCode.INVALID}
    assert not Payment.objects.filter(organization=organization).exists()
    assert Invoice.objects.get(pk=invoice.pk).applied_amount == 0


def test_many_payments_write_their_audit_and_events(organization, customer, collector):
    first = make_invoice(organization, customer, amount="100.00", number="INV-1", due_date=dt.date(2026, 2, 1))
    make_invoice(organization, customer, amount="100.00", number="INV-2", due_date=dt.date(2026, 3, 1))
    WebhookEvent.objects.all().delete()

    payments = services.payments_record_many(organization=organization, actor=collector, rows=[
        {"customer": customer, "received_on": dt.date(2026, 3, 5), "amount": D("150.00"), "external_id": "B-1"},
        {"customer": customer, "received_on": dt.date(2026, 3, 6), "amount": D("80.00"), "external_id": "B-2"},
    ])

    assert [p.unapplied_amount for p in payments] == [D("0.00"), D("30.00")]
    assert Invoice.objects.get(pk=first.pk).status == "paid"
    entries = AuditEntry.objects.filter(organization=organization, action__in=["payment.recorded",
                                                                               "payment.allocated"])
    assert sorted(e.action for e in entries) == ["payment.allocated"] * 3 + ["payment.recorded"] * 2
    balances = [e.after["invoice_balance"] for e in entries.filter(action="payment.allocated").order_by("sequence")]
    assert balances == ["0.0000", "50.0000", "0.0000"]  # INV-1 paid, INV-2 half, then INV-2 paid
    assert audit_verify(organization).ok
    kinds = sorted(WebhookEvent.objects.filter(organization=organization).values_list("type", flat=True))
    assert kinds == ["invoice.paid", "invoice.paid", "payment.received", "payment.received"]
    received = WebhookEvent.objects.filter(type="payment.received").order_by("pk").first().payload
    assert [a["amount"] for a in received["allocations"]] == ["100.0000", "50.0000"]


# --- customers_create_many / customers_update_many --------------------------------------------

def test_many_customers_are_created_as_one_is(organization, collector):
    one = services.customer_create(organization=organization, actor=collector, name="深圳前海科技有限公司",
                                   external_id="K-0", contact_emails=["ap@example.cn"])
    many = services.customers_create_many(organization=organization, actor=collector, rows=[
        {"name": "深圳前海科技有限公司", "external_id": f"K-{n}", "contact_emails": ["ap@example.cn"]}
        for n in range(1, 3)])

    fields = ("name", "currency", "payment_terms_days", "language", "contact_emails", "segment", "status")
    stored = [Customer.objects.filter(pk=c.pk).values(*fields).get() for c in [one, *many]]
    assert stored == [stored[0]] * 3
    entries = AuditEntry.objects.filter(organization=organization, action="customer.created").order_by("sequence")
    assert [e.after["external_id"] for e in entries] == ["K-0", "K-1", "K-2"]
    assert audit_verify(organization).ok


def test_bad_customer_rows_are_all_named_and_nothing_is_written(organization, collector):
    with pytest.raises(RowsInvalid) as error:
        services.customers_create_many(organization=organization, actor=collector, rows=[
            {"name": "Fine", "external_id": "K-1"}, {"name": "", "external_id": "K-2"},
            {"name": "Bad currency", "currency": "XYZ"}, {"name": "x" * 201}])
    assert sorted(error.value.rows) == [1, 2, 3]
    assert not Customer.objects.filter(organization=organization).exists()


def test_many_customer_changes_are_saved_audited_and_announced(organization, customer, collector):
    other = CustomerFactory(organization=organization, name="Other", payment_terms_days=30)
    WebhookEvent.objects.all().delete()

    changed = services.customers_update_many(organization=organization, actor=collector, changes=[
        (customer, {"payment_terms_days": 60}), (other, {"payment_terms_days": 30}),  # no change: left alone
    ])

    assert changed == [customer]
    customer.refresh_from_db()
    assert customer.payment_terms_days == 60
    entry = AuditEntry.objects.get(organization=organization, action="customer.updated")
    assert (entry.before, entry.after) == ({"payment_terms_days": 30}, {"payment_terms_days": 60})
    event = WebhookEvent.objects.get(organization=organization, type="customer.updated")
    assert event.payload["id"] == customer.pk and event.payload["payment_terms_days"] == 60
    assert audit_verify(organization).ok

    with pytest.raises(RowsInvalid) as error:
        services.customers_update_many(organization=organization, actor=collector, changes=[
            (customer, {"payment_terms_days": 90}), (other, {"segment": "galactic"})])
    assert list(error.value.rows) == [1]
    customer.refresh_from_db()
    assert customer.payment_terms_days == 60


# --- invoices_update_many ----------------------------------------------------------------------

def _invoice_outcome(organization):
    invoices = sorted(Invoice.objects.filter(organization=organization).values_list(
        "number", "issue_date", "due_date", "net_amount", "tax_amount", "total_amount", "applied_amount", "status",
        "description"))
    allocations = sorted(Allocation.objects.filter(organization=organization).values_list(
        "invoice__number", "amount", "applied_on"))
    return invoices, allocations


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paid=st.lists(amounts, min_size=3, max_size=3),
       changes=st.lists(st.tuples(st.integers(0, 2), st.fixed_dictionaries({}, optional={
           "issue_date": st.integers(-20, 40).map(lambda d: dt.date(2026, 1, 1) + dt.timedelta(days=d)),
           "due_date": st.integers(0, 90).map(lambda d: dt.date(2026, 1, 1) + dt.timedelta(days=d)),
           "net_amount": st.decimals(min_value=D("1"), max_value=D("600"), places=2),
           "description": st.text(max_size=5)})), min_size=1, max_size=3, unique_by=lambda c: c[0]))
def test_many_invoice_changes_come_out_as_one_after_another(db, paid, changes):
    def setup(organization):
        customer = CustomerFactory(organization=organization, currency="CNY")
        invoices = _ledger(organization, [customer], [(0, D("500.00"), 5 * n, 30) for n in range(3)])
        for invoice, amount in zip(invoices, paid, strict=True):
            payment = services.payment_record(organization=organization, actor=None, customer=customer,
                                              received_on=dt.date(2026, 1, 20), amount=amount, auto_allocate=False)
            services.payment_allocate(organization=organization, actor=None, payment=payment,
                                      allocations=[(invoice, amount)])
        return [(Invoice.objects.get(pk=invoices[i].pk), dict(change)) for i, change in changes]

    def one_by_one(organization, pairs):
        with transaction.atomic():
            for invoice, change in pairs:
                services.invoice_update(organization=organization, invoice=invoice, actor=None, **change)

    def many_at_once(organization, pairs):
        services.invoices_update_many(organization=organization, actor=None, changes=pairs)

    first, second = _one_by_one_and_many_at_once(setup, one_by_one, many_at_once, _invoice_outcome)
    assert second == first


def test_many_invoice_changes_refuse_void_and_unknown_fields(organization, customer, collector):
    open_one = make_invoice(organization, customer, amount="100.00", number="INV-1")
    void = make_invoice(organization, customer, amount="100.00", number="INV-2")
    services.invoice_void(organization=organization, actor=None, invoice=void)

    with pytest.raises(RowsInvalid) as error:
        services.invoices_update_many(organization=organization, actor=collector, changes=[
            (open_one, {"due_date": dt.date(2026, 5, 1)}), (open_one, {"number": "X"})])
    assert list(error.value.rows) == [1]
    with pytest.raises(RowsInvalid) as error:
        services.invoices_update_many(organization=organization, actor=collector, changes=[
            (open_one, {"due_date": dt.date(2026, 5, 1)}), (void, {"description": "x"})])
    assert error.value.rows[1][0].code == ErrorCode.INVOICE_NOT_OPEN
    assert Invoice.objects.get(pk=open_one.pk).due_date != dt.date(2026, 5, 1)


@pytest.mark.parametrize("size", [1, 7, 64, 10_000])
def test_the_copy_stream_hands_over_every_character_in_order(size):
    from tenancy.db import _LineReader

    lines = [f"{n}\t{'中' * n}\t{AWKWARD}\n" for n in range(50)]
    reader, read = _LineReader(iter(lines)), []
    while chunk := reader.read(size):
        assert len(chunk) <= size
        read.append(chunk)
    assert "".join(read) == "".join(lines)


# --- roles, tenancy and rules shared with the one-at-a-time services ----------------------------

def _many_calls(organization, customer, invoice):
    return {
        "invoices_create_many": lambda actor, target: services.invoices_create_many(
            organization=organization, actor=actor, rows=[_row(target, 99)]),
        "invoices_update_many": lambda actor, target: services.invoices_update_many(
            organization=organization, actor=actor, changes=[(target, {"description": "changed"})]),
        "payments_record_many": lambda actor, target: services.payments_record_many(
            organization=organization, actor=actor, rows=[
                {"customer": customer, "received_on": dt.date(2026, 3, 1), "amount": D("1.00"), "invoice": target}]),
        "customers_create_many": lambda actor, target: services.customers_create_many(
            organization=organization, actor=actor, rows=[{"name": "New"}]),
        "customers_update_many": lambda actor, target: services.customers_update_many(
            organization=organization, actor=actor, changes=[(target, {"name": "Renamed"})]),
    }


@pytest.mark.parametrize("name", ["invoices_create_many", "invoices_update_many", "payments_record_many",
                                  "customers_create_many", "customers_update_many"])
def test_viewers_cannot_write_many(organization, customer, viewer, name):
    invoice = make_invoice(organization, customer, number="INV-1")
    target = customer if name.startswith("customers") or name == "invoices_create_many" else invoice
    with pytest.raises(PermissionDenied):
        _many_calls(organization, customer, invoice)[name](viewer, target)


@pytest.mark.parametrize("name", ["invoices_create_many", "invoices_update_many", "payments_record_many",
                                  "customers_update_many"])
def test_another_organizations_rows_are_refused_and_left_alone(organization, other_organization, customer,
                                                               collector, name):
    stranger = CustomerFactory(organization=other_organization, name="Stranger")
    their_invoice = make_invoice(other_organization, stranger, number="THEIRS")
    target = stranger if name in ("invoices_create_many", "customers_update_many") else their_invoice
    with pytest.raises(RowsInvalid) as error:
        _many_calls(organization, customer, make_invoice(organization, customer, number="INV-1"))[name](
            collector, target)
    assert error.value.rows[0][0].code == ErrorCode.NOT_FOUND
    stranger.refresh_from_db()
    their_invoice.refresh_from_db()
    assert stranger.name == "Stranger" and their_invoice.description == "" and their_invoice.applied_amount == 0


def test_a_total_too_large_for_the_ledger_is_a_row_error_not_a_crash(organization, customer, collector):
    huge = D("9999999999999999")
    with pytest.raises(RowsInvalid) as error:
        services.invoices_create_many(organization=organization, actor=collector,
                                      rows=[_row(customer, 1, net_amount=huge, tax_amount=huge)])
    assert error.value.rows[0][0].field == "total_amount"
    with pytest.raises(DomainError) as single:
        services.invoice_create(organization=organization, actor=collector,
                                **_row(customer, 2, net_amount=huge, tax_amount=huge))
    assert single.value.field == "total_amount"


def test_raising_an_invoice_total_passes_the_credit_hold_like_a_new_invoice(organization, customer, collector):
    _limit(organization, customer, "300.00")
    small = services.invoice_create(organization=organization, actor=collector, **_row(customer, 1,
                                                                                        net_amount=D("10.00")))
    with pytest.raises(DomainError) as single:
        services.invoice_update(organization=organization, invoice=small, actor=collector, net_amount=D("5000.00"))
    assert single.value.code == ErrorCode.CREDIT_HOLD
    with pytest.raises(RowsInvalid) as many:
        services.invoices_update_many(organization=organization, actor=collector,
                                      changes=[(small, {"net_amount": D("5000.00")})])
    assert many.value.rows[0][0].code == ErrorCode.CREDIT_HOLD
    small.refresh_from_db()
    assert small.net_amount == D("10.00")
    lowered = services.invoice_update(organization=organization, invoice=small, actor=collector, net_amount=D("5.00"))
    assert lowered.net_amount == D("5.00")  # lowering a total is never held
