"""Cross-currency receipts and realized / unrealized FX differences (issue 11, item 5).

Worked examples first, to the cent. Base currency CNY throughout (the `organization` fixture).
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse

from receivables import selectors, services
from receivables.models import Allocation, Invoice, Payment
from receivables.services import Conversion
from tenancy.errors import DomainError, ErrorCode, RowsInvalid
from tenancy.models import AuditEntry
from tests.factories import CustomerFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db

D = Decimal
ISSUED = dt.date(2026, 3, 2)
PAID = dt.date(2026, 3, 31)


@pytest.fixture
def northwind(organization):
    return CustomerFactory(organization=organization, name="Northwind Traders", currency="USD")


def rate(organization, currency, on, value):
    services.fx_rate_set(organization=organization, actor=None, currency=currency, rate_date=on, rate=D(value))


@pytest.fixture
def usd_invoice(organization, northwind):
    """USD 1,000.00 issued at 7.1000: CNY 7,100.00 at issue."""
    rate(organization, "USD", ISSUED, "7.1000")
    return make_invoice(organization, northwind, amount="1000.00", issue_date=ISSUED, number="INV-USD-1")


def cny_payment(organization, customer, amount="7200.00", received_on=PAID):
    return make_payment(organization, customer, amount=amount, currency="CNY", received_on=received_on,
                        auto_allocate=False)


def allocate(organization, payment, *lines):
    return services.payment_allocate(organization=organization, actor=None, payment=payment, allocations=list(lines))


# --- the invoice's base value at issue -------------------------------------------------------

def test_invoice_keeps_its_base_value_at_issue(usd_invoice, organization):
    usd_invoice.refresh_from_db()
    assert usd_invoice.issue_rate == D("7.1000")
    assert usd_invoice.base_amount == D("7100.00")
    rate(organization, "USD", PAID, "7.2000")  # a later rate changes nothing at issue
    usd_invoice.refresh_from_db()
    assert usd_invoice.base_amount == D("7100.00")


def test_a_base_currency_invoice_is_its_own_base_value(organization, customer):
    invoice = make_invoice(organization, customer, amount="100.10", issue_date=ISSUED)
    invoice.refresh_from_db()
    assert invoice.issue_rate == D("1") and invoice.base_amount == D("100.10")


def test_an_invoice_issued_before_any_rate_has_no_base_value(organization, northwind):
    invoice = make_invoice(organization, northwind, amount="10.00", issue_date=ISSUED)
    invoice.refresh_from_db()
    assert invoice.issue_rate is None and invoice.base_amount is None


def test_bulk_invoices_get_their_base_value(organization, northwind, customer):
    rate(organization, "USD", dt.date(2026, 1, 1), "7.0")
    rate(organization, "USD", ISSUED, "7.1")
    invoices = services.invoices_create_many(organization=organization, actor=None, rows=[
        {"customer": northwind, "number": "B-1", "issue_date": dt.date(2026, 2, 1), "net_amount": D("10.00")},
        {"customer": northwind, "number": "B-2", "issue_date": ISSUED, "net_amount": D("10.01")},
        {"customer": customer, "number": "B-3", "issue_date": ISSUED, "net_amount": D("5.00")},
    ])
    stored = {i.number: (i.issue_rate, i.base_amount) for i in Invoice.objects.filter(pk__in=[i.pk for i in invoices])}
    assert stored == {"B-1": (D("7.0"), D("70.00")), "B-2": (D("7.1"), D("71.07")), "B-3": (D("1"), D("5.00"))}


def test_a_corrected_issue_date_or_amount_takes_the_new_base_value(organization, usd_invoice):
    rate(organization, "USD", dt.date(2026, 3, 10), "7.3")
    services.invoice_update(organization=organization, actor=None, invoice=usd_invoice,
                            issue_date=dt.date(2026, 3, 10), due_date=dt.date(2026, 4, 10), net_amount=D("500.00"))
    usd_invoice.refresh_from_db()
    assert (usd_invoice.issue_rate, usd_invoice.base_amount) == (D("7.3"), D("3650.00"))


# --- the worked example: USD 1,000 at 7.10, paid with CNY 7,200 at 7.20 -> gain CNY 100 ---------

def test_usd_invoice_paid_in_cny_with_payment_amount(organization, northwind, usd_invoice):
    payment = cny_payment(organization, northwind)
    [allocation] = allocate(organization, payment, (usd_invoice, D("1000.00"), Conversion(payment_amount=D("7200.00"))))

    allocation.refresh_from_db()
    assert (allocation.amount, allocation.currency) == (D("1000.00"), "USD")
    assert (allocation.payment_amount, allocation.payment_currency) == (D("7200.00"), "CNY")
    assert allocation.base_amount == D("7200.00")
    assert allocation.fx_difference == D("100.00")
    usd_invoice.refresh_from_db()
    payment.refresh_from_db()
    assert usd_invoice.status == "paid" and usd_invoice.applied_amount == D("1000.00")
    assert payment.unapplied_amount == D("0.00")
    entry = AuditEntry.objects.filter(organization=organization, action="payment.allocated").latest("pk")
    assert entry.after["payment_amount"] == "7200.00" and entry.after["fx_difference"] == "100.00"


def test_usd_invoice_paid_in_cny_with_a_rate(organization, northwind, usd_invoice):
    payment = cny_payment(organization, northwind)
    [allocation] = allocate(organization, payment, (usd_invoice, D("1000.00"), Conversion(rate=D("7.2"))))
    allocation.refresh_from_db()
    assert (allocation.payment_amount, allocation.fx_difference) == (D("7200.00"), D("100.00"))


def test_usd_invoice_paid_in_cny_at_the_stored_rate_of_the_receipt_date(organization, northwind, usd_invoice):
    rate(organization, "USD", PAID, "7.2000")
    payment = cny_payment(organization, northwind)
    [allocation] = allocate(organization, payment, (usd_invoice, D("1000.00")))
    allocation.refresh_from_db()
    assert (allocation.payment_amount, allocation.fx_difference) == (D("7200.00"), D("100.00"))


def test_a_loss_when_the_currency_fell(organization, northwind, usd_invoice):
    payment = cny_payment(organization, northwind, amount="6950.00")
    [allocation] = allocate(organization, payment, (usd_invoice, D("1000.00"), Conversion(rate=D("6.95"))))
    allocation.refresh_from_db()
    assert allocation.fx_difference == D("-150.00")


def test_part_of_a_cny_receipt_settles_a_usd_invoice_the_rest_stays_unapplied(organization, northwind, usd_invoice):
    payment = cny_payment(organization, northwind, amount="10000.00")
    allocate(organization, payment, (usd_invoice, D("400.00"), Conversion(rate=D("7.2"))))
    payment.refresh_from_db()
    usd_invoice.refresh_from_db()
    assert payment.unapplied_amount == D("7120.00")  # 10,000 - 400 x 7.2
    assert usd_invoice.applied_amount == D("400.00") and usd_invoice.status == "partially_paid"


def test_a_cny_invoice_paid_in_usd(organization, customer):
    """The other way: USD 100.00 received for a CNY invoice, the stored rate 7.2 -> CNY 720.00."""
    rate(organization, "USD", ISSUED, "7.2")
    invoice = make_invoice(organization, customer, amount="720.00", issue_date=ISSUED)
    payment = make_payment(organization, customer, amount="100.00", currency="USD", received_on=PAID,
                           auto_allocate=False)
    [allocation] = allocate(organization, payment, (invoice, D("720.00")))
    allocation.refresh_from_db()
    assert (allocation.payment_amount, allocation.payment_currency) == (D("100.00"), "USD")
    assert (allocation.base_amount, allocation.fx_difference) == (D("720.00"), D("0.00"))


def test_a_third_currency_converts_through_the_base_currency(organization, northwind, usd_invoice):
    """EUR received for a USD invoice: stored rates USD 7.2 and EUR 7.8 on the receipt date give
    EUR 923.08 (1,000 x 7.2 / 7.8, half up); its base value is 923.08 x 7.8 = CNY 7,200.02."""
    rate(organization, "USD", PAID, "7.2")
    rate(organization, "EUR", PAID, "7.8")
    payment = make_payment(organization, northwind, amount="1000.00", currency="EUR", received_on=PAID,
                           auto_allocate=False)
    [allocation] = allocate(organization, payment, (usd_invoice, D("1000.00")))
    allocation.refresh_from_db()
    assert (allocation.payment_amount, allocation.payment_currency) == (D("923.08"), "EUR")
    assert (allocation.base_amount, allocation.fx_difference) == (D("7200.02"), D("100.02"))
    payment.refresh_from_db()
    assert payment.unapplied_amount == D("76.92")


# --- ordinary foreign-currency allocations realize a difference too --------------------------

def test_a_usd_payment_of_a_usd_invoice_realizes_the_rate_change(organization, northwind, usd_invoice):
    rate(organization, "USD", PAID, "6.9")
    make_payment(organization, northwind, amount="1000.00", currency="USD", received_on=PAID)  # oldest first
    allocation = Allocation.objects.get(invoice=usd_invoice)
    assert allocation.payment_amount is None and allocation.payment_currency is None
    assert (allocation.base_amount, allocation.fx_difference) == (D("6900.00"), D("-200.00"))


def test_partial_payments_release_the_base_value_exactly(organization, northwind):
    """USD 100.00 at 7.1234 = CNY 712.34, paid 33.33 + 33.33 + 33.34 at 7.2: each payment releases
    its share of 712.34 (237.42, 237.43, 237.49: the last one takes what is left), so the three
    differences (2.56, 2.55, 2.56) add up to 720.01 - 712.34 = 7.67 exactly."""
    rate(organization, "USD", ISSUED, "7.1234")
    rate(organization, "USD", PAID, "7.2")
    invoice = make_invoice(organization, northwind, amount="100.00", issue_date=ISSUED)
    for amount in ("33.33", "33.33", "33.34"):
        make_payment(organization, northwind, amount=amount, currency="USD", received_on=PAID)
    rows = list(Allocation.objects.filter(invoice=invoice).order_by("pk").values_list("base_amount", "fx_difference"))
    assert rows == [(D("239.98"), D("2.56")), (D("239.98"), D("2.55")), (D("240.05"), D("2.56"))]
    assert sum(d for _b, d in rows) == D("7.67")


def test_bulk_payments_realize_the_difference_as_one_by_one(organization, northwind, usd_invoice):
    rate(organization, "USD", PAID, "7.25")
    services.payments_record_many(organization=organization, actor=None, rows=[
        {"customer": northwind, "received_on": PAID, "amount": D("600.00"), "currency": "USD"},
        {"customer": northwind, "received_on": PAID, "amount": D("400.00"), "currency": "USD", "invoice": usd_invoice},
    ])
    rows = list(Allocation.objects.filter(invoice=usd_invoice).order_by("pk").values_list("base_amount", "fx_difference"))
    assert rows == [(D("4350.00"), D("90.00")), (D("2900.00"), D("60.00"))]


def test_no_rate_on_the_receipt_date_leaves_the_difference_unknown(organization, northwind):
    """Issued on 02-01, before the first USD rate (03-02): its base value at issue is unknown, so
    is the difference its payment realizes (the receipt itself converts at 7.1)."""
    rate(organization, "USD", ISSUED, "7.1")
    invoice = make_invoice(organization, northwind, amount="10.00", issue_date=dt.date(2026, 2, 1))
    make_payment(organization, northwind, amount="10.00", currency="USD", received_on=PAID)
    allocation = Allocation.objects.get(invoice=invoice)
    invoice.refresh_from_db()
    assert allocation.base_amount == D("71.00")
    assert invoice.base_amount is None and allocation.fx_difference is None


def test_a_base_currency_allocation_has_no_difference(organization, customer):
    invoice = make_invoice(organization, customer, amount="100.00", issue_date=ISSUED)
    make_payment(organization, customer, amount="100.00", received_on=PAID)
    allocation = Allocation.objects.get(invoice=invoice)
    assert allocation.fx_difference in (None, D("0"))


# --- bad input: a clear error, nothing written -----------------------------------------------

def _nothing_written(payment, invoice):
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.unapplied_amount == payment.amount
    assert invoice.applied_amount == 0 and not Allocation.objects.filter(invoice=invoice).exists()


def test_no_rate_at_all_is_refused(organization, northwind):
    invoice = make_invoice(organization, northwind, amount="1000.00", issue_date=ISSUED)
    payment = cny_payment(organization, northwind)
    with pytest.raises(DomainError) as caught:
        allocate(organization, payment, (invoice, D("1000.00")))
    assert caught.value.code == ErrorCode.FX_RATE_REQUIRED
    assert "payment_amount" in caught.value.message and "rate" in caught.value.message
    _nothing_written(payment, invoice)


@pytest.mark.parametrize("conversion", [Conversion(rate=D("0")), Conversion(rate=D("-7.2")),
                                        Conversion(payment_amount=D("0")), Conversion(payment_amount=D("-1")),
                                        Conversion(rate=D("NaN")),
                                        Conversion(payment_amount=D("7200"), rate=D("7.2"))])
def test_a_zero_negative_or_ambiguous_conversion_is_refused(organization, northwind, usd_invoice, conversion):
    payment = cny_payment(organization, northwind)
    with pytest.raises(DomainError) as caught:
        allocate(organization, payment, (usd_invoice, D("1000.00"), conversion))
    assert caught.value.field in ("rate", "payment_amount")
    _nothing_written(payment, usd_invoice)


def test_a_rate_so_small_the_payment_amount_rounds_to_zero_is_refused(organization, northwind, usd_invoice):
    payment = cny_payment(organization, northwind)
    with pytest.raises(DomainError):
        allocate(organization, payment, (usd_invoice, D("0.01"), Conversion(rate=D("0.1"))))
    _nothing_written(payment, usd_invoice)


def test_more_than_the_unapplied_cash_in_payment_currency_is_refused(organization, northwind, usd_invoice):
    payment = cny_payment(organization, northwind, amount="7000.00")
    with pytest.raises(DomainError) as caught:
        allocate(organization, payment, (usd_invoice, D("1000.00"), Conversion(rate=D("7.2"))))
    assert caught.value.code == ErrorCode.INSUFFICIENT_FUNDS
    _nothing_written(payment, usd_invoice)


def test_a_second_line_failing_undoes_the_first(organization, northwind, usd_invoice):
    other = make_invoice(organization, northwind, amount="10.00", issue_date=ISSUED)
    payment = cny_payment(organization, northwind)
    with pytest.raises(DomainError):
        allocate(organization, payment, (usd_invoice, D("100.00"), Conversion(rate=D("7.2"))),
                 (other, D("10.00"), Conversion(rate=D("0"))))
    _nothing_written(payment, usd_invoice)


def test_a_conversion_on_a_same_currency_line_must_agree(organization, northwind, usd_invoice):
    payment = make_payment(organization, northwind, amount="100.00", currency="USD", received_on=PAID,
                           auto_allocate=False)
    with pytest.raises(DomainError) as caught:
        allocate(organization, payment, (usd_invoice, D("100.00"), Conversion(payment_amount=D("99.00"))))
    assert caught.value.field == "payment_amount"
    _nothing_written(payment, usd_invoice)
    allocate(organization, payment, (usd_invoice, D("100.00"), Conversion(payment_amount=D("100.00"))))
    assert Allocation.objects.get(invoice=usd_invoice).payment_amount is None


def test_automatic_allocation_stays_in_the_payments_currency(organization, northwind, usd_invoice):
    rate(organization, "USD", PAID, "7.2")
    payment = make_payment(organization, northwind, amount="7200.00", currency="CNY", received_on=PAID)
    assert payment.unapplied_amount == D("7200.00")
    assert not Allocation.objects.filter(invoice=usd_invoice).exists()


# --- reports ---------------------------------------------------------------------------------

def test_realized_fx_by_month_in_base_currency(organization, northwind, usd_invoice):
    second = make_invoice(organization, northwind, amount="500.00", issue_date=ISSUED)  # 500 x 7.1 = 3,550.00
    allocate(organization, cny_payment(organization, northwind), (usd_invoice, D("1000.00"), Conversion(rate=D("7.2"))))
    april = dt.date(2026, 4, 20)
    allocate(organization, cny_payment(organization, northwind, amount="3500.00", received_on=april),
             (second, D("500.00"), Conversion(payment_amount=D("3500.00"))))

    report = selectors.realized_fx_report(organization, dt.date(2026, 4, 30), months=3)

    assert report.currency == "CNY"
    assert [(p.start, p.end, p.amount, p.count) for p in report.periods] == [
        (dt.date(2026, 2, 1), dt.date(2026, 2, 28), D("0"), 0),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31), D("100.00"), 1),
        (dt.date(2026, 4, 1), dt.date(2026, 4, 30), D("-50.00"), 1),
    ]
    assert report.periods[1].by_currency == {"USD": D("100.00")}
    assert report.total == D("50.00") and report.unknown == 0
    # As of a past date: only what was realized by then.
    assert selectors.realized_fx_report(organization, dt.date(2026, 3, 31), months=1).total == D("100.00")


def test_aging_totals_gain_the_unrealized_revaluation(organization, northwind, usd_invoice, customer):
    make_invoice(organization, customer, amount="500.00", issue_date=ISSUED)  # CNY: nothing to revalue
    rate(organization, "USD", dt.date(2026, 4, 1), "7.3")

    report = selectors.aging_report(organization, dt.date(2026, 4, 15), unrealized=True)
    assert report.total == D("7800.00")  # 1,000 x 7.3 + 500
    assert report.unrealized_fx == D("200.00")  # 7,300.00 - 7,100.00

    # Half paid in CNY on 04-10: the open USD 500 is revalued, the paid half was realized.
    allocate(organization, cny_payment(organization, northwind, amount="3600.00", received_on=dt.date(2026, 4, 10)),
             (usd_invoice, D("500.00"), Conversion(rate=D("7.2"))))
    report = selectors.aging_report(organization, dt.date(2026, 4, 15), unrealized=True)
    assert report.total == D("4150.00") and report.unrealized_fx == D("100.00")  # 3,650 - 3,550
    # As of before the payment, the revaluation is what it was (at that date's rate, 7.1).
    assert selectors.aging_report(organization, dt.date(2026, 3, 31), unrealized=True).unrealized_fx == D("0.00")
    # Not asked for, it is not computed (the plain aging keeps its cost).
    assert selectors.aging_report(organization, dt.date(2026, 4, 15)).unrealized_fx is None


def test_aging_names_the_open_invoices_without_an_issue_rate(organization, northwind):
    make_invoice(organization, northwind, amount="10.00", issue_date=ISSUED)
    rate(organization, "USD", PAID, "7.2")
    report = selectors.aging_report(organization, PAID, unrealized=True)
    assert report.unrealized_fx == D("0") and report.unrealized_fx_unknown == 1


def test_payment_stays_consistent(organization, northwind, usd_invoice):
    payment = cny_payment(organization, northwind, amount="9000.00")
    allocate(organization, payment, (usd_invoice, D("250.00"), Conversion(payment_amount=D("1801.23"))))
    allocate(organization, payment, (usd_invoice, D("250.00"), Conversion(rate=D("7.21"))))
    payment.refresh_from_db()
    applied = sum(a.payment_amount for a in Allocation.objects.filter(payment=payment))
    assert applied == D("1801.23") + D("1802.50")
    assert payment.amount - payment.unapplied_amount == applied
    assert Payment.objects.get(pk=payment.pk).unapplied_amount == D("5396.27")


# --- reversals undo the difference they realized ---------------------------------------------

def test_reversing_a_cny_receipt_undoes_its_gain_on_the_reversal_date(organization, northwind, usd_invoice):
    payment = cny_payment(organization, northwind)
    allocate(organization, payment, (usd_invoice, D("1000.00"), Conversion(rate=D("7.2"))))
    bounced = dt.date(2026, 4, 10)
    services.payment_reverse(organization=organization, actor=None, payment=payment, reversed_on=bounced,
                             reason="bounced")

    undo = Allocation.objects.get(invoice=usd_invoice, amount__lt=0)
    assert (undo.amount, undo.payment_amount, undo.payment_currency) == (D("-1000.00"), D("-7200.00"), "CNY")
    assert (undo.base_amount, undo.fx_difference, undo.applied_on) == (D("-7200.00"), D("-100.00"), bounced)
    report = selectors.realized_fx_report(organization, dt.date(2026, 4, 30), months=2)
    assert [p.amount for p in report.periods] == [D("100.00"), D("-100.00")] and report.total == D("0.00")
    # As of before the reversal, nothing changed.
    assert selectors.realized_fx_report(organization, dt.date(2026, 3, 31), months=1).total == D("100.00")
    usd_invoice.refresh_from_db()
    assert usd_invoice.status == "open"
    # The reopened invoice is revalued again in the aging: 1,000 x 7.1 (the rate in force) - 7,100.
    assert selectors.aging_report(organization, bounced, unrealized=True).unrealized_fx == D("0.00")


def test_reversing_a_usd_receipt_undoes_its_loss(organization, northwind, usd_invoice):
    rate(organization, "USD", PAID, "6.9")
    payment = make_payment(organization, northwind, amount="1000.00", currency="USD", received_on=PAID)
    services.payment_reverse(organization=organization, actor=None, payment=payment, reversed_on=PAID,
                             reason="recorded in error")
    rows = list(Allocation.objects.filter(invoice=usd_invoice).order_by("pk").values_list("amount", "fx_difference"))
    assert rows == [(D("1000.00"), D("-200.00")), (D("-1000.00"), D("200.00"))]


def test_unapplying_in_parts_undoes_the_difference_exactly(organization, northwind, usd_invoice):
    """Unapplied 333.33 and then the rest of a CNY 7,200.00 receipt: 2,399.98 + 4,800.02 go back to the
    payment, and the parts of the gain undone (33.33 + 66.67) add up to it exactly."""
    payment = cny_payment(organization, northwind)
    allocate(organization, payment, (usd_invoice, D("1000.00"), Conversion(rate=D("7.2"))))
    services.payment_unapply(organization=organization, actor=None, payment=payment, invoice=usd_invoice,
                             amount=D("333.33"), on=dt.date(2026, 4, 1))
    services.payment_unapply(organization=organization, actor=None, payment=payment, invoice=usd_invoice,
                             on=dt.date(2026, 4, 2))
    undone = list(Allocation.objects.filter(invoice=usd_invoice, amount__lt=0).order_by("pk")
                  .values_list("payment_amount", "fx_difference"))
    assert undone == [(D("-2399.98"), D("-33.33")), (D("-4800.02"), D("-66.67"))]
    payment.refresh_from_db()
    assert payment.unapplied_amount == D("7200.00")
    # Applied again elsewhere at another rate, it realizes a new difference.
    allocate(organization, payment, (usd_invoice, D("1000.00"), Conversion(payment_amount=D("7150.00"))))
    assert Allocation.objects.filter(invoice=usd_invoice).aggregate(s=Sum("fx_difference"))["s"] == D("50.00")


# --- bulk paths (API bulk, importer) -----------------------------------------------------------

def test_a_bulk_cny_row_naming_a_usd_invoice_converts_at_the_stored_rate(organization, northwind, usd_invoice):
    rate(organization, "USD", PAID, "7.2")
    [payment] = services.payments_record_many(organization=organization, actor=None, rows=[
        {"customer": northwind, "received_on": PAID, "amount": D("3600.00"), "currency": "CNY", "invoice": usd_invoice}])
    allocation = Allocation.objects.get(payment=payment)
    assert (allocation.amount, allocation.payment_amount, allocation.payment_currency) == (D("500.00"), D("3600.00"), "CNY")
    assert (allocation.base_amount, allocation.fx_difference) == (D("3600.00"), D("50.00"))  # 3,600 - 500 x 7.1
    payment.refresh_from_db()
    assert payment.unapplied_amount == D("0.00")


def test_a_bulk_row_without_any_rate_is_refused_by_row(organization, northwind):
    invoice = make_invoice(organization, northwind, amount="100.00", issue_date=ISSUED)
    with pytest.raises(RowsInvalid) as caught:
        services.payments_record_many(organization=organization, actor=None, rows=[
            {"customer": northwind, "received_on": PAID, "amount": D("100.00"), "currency": "USD"},
            {"customer": northwind, "received_on": PAID, "amount": D("720.00"), "currency": "CNY", "invoice": invoice}])
    assert list(caught.value.rows) == [1] and caught.value.rows[1][0].code == ErrorCode.FX_RATE_REQUIRED
    assert not Payment.objects.filter(organization=organization).exists()


# --- pages -----------------------------------------------------------------------------------

def test_the_realized_fx_page(client, admin_user, organization, northwind, usd_invoice):
    allocate(organization, cny_payment(organization, northwind, amount="3600.00"),
             (usd_invoice, D("500.00"), Conversion(rate=D("7.2"))))
    rate(organization, "USD", dt.date(2026, 4, 1), "7.3")
    client.force_login(admin_user)
    html = client.get(reverse("fx_realized"), {"as_of": "2026-04-30"}).content.decode()
    assert 'data-testid="fx-period-2026-03"' in html and 'data-testid="fx-realized-total">50.00<' in html
    assert 'data-testid="fx-realized-link"' in client.get(reverse("fx_rate_list")).content.decode()


def test_the_dashboard_shows_the_unrealized_revaluation(client, admin_user, organization, northwind, usd_invoice):
    rate(organization, "USD", dt.date(2026, 4, 1), "7.3")
    client.force_login(admin_user)
    html = client.get(reverse("dashboard"), {"as_of": "2026-04-30"}).content.decode()
    assert 'data-testid="aging-unrealized-fx"' in html and "200.00 CNY" in html  # 1,000 x (7.3 - 7.1)


def test_the_payment_page_allocates_a_cny_receipt_to_a_usd_invoice(client, admin_user, organization, northwind,
                                                                    usd_invoice):
    payment = cny_payment(organization, northwind)
    client.force_login(admin_user)
    page = client.get(reverse("payment_detail", args=[payment.pk])).content.decode()
    assert f'name="payment_amount_{usd_invoice.pk}"' in page
    response = client.post(reverse("payment_allocate", args=[payment.pk]), {
        f"invoice_{usd_invoice.pk}": "1000.00", f"payment_amount_{usd_invoice.pk}": "7200.00"})
    assert response.status_code == 302
    allocation = Allocation.objects.get(invoice=usd_invoice)
    assert (allocation.payment_amount, allocation.fx_difference) == (D("7200.00"), D("100.00"))


def test_the_payment_page_names_a_missing_rate(client, admin_user, organization, northwind):
    invoice = make_invoice(organization, northwind, amount="1000.00", issue_date=ISSUED)
    payment = cny_payment(organization, northwind)
    client.force_login(admin_user)
    response = client.post(reverse("payment_allocate", args=[payment.pk]), {f"invoice_{invoice.pk}": "1000.00"})
    assert response.status_code == 200
    assert "no stored rate converts them on 2026-03-31" in response.content.decode()
    assert not Allocation.objects.filter(invoice=invoice).exists()
