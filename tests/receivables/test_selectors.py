import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from receivables import selectors, services
from tenancy.errors import DomainError, ErrorCode
from tests.factories import CustomerFactory, make_invoice, make_payment

D = Decimal
AS_OF = dt.date(2026, 6, 30)


def _due(days_past_due: int) -> dict:
    due = AS_OF - dt.timedelta(days=days_past_due)
    return {"issue_date": due - dt.timedelta(days=30), "due_date": due}


def _bucket_amounts(report):
    return dict(zip([b.key for b in report.buckets], report.totals, strict=True))


@pytest.mark.parametrize(
    ("days_past_due", "bucket"),
    [(-10, "current"), (0, "current"), (1, "d1_30"), (30, "d1_30"), (31, "d31_60"), (60, "d31_60"),
     (61, "d61_90"), (90, "d61_90"), (91, "d90_plus"), (400, "d90_plus")],
)
def test_aging_bucket_boundaries(organization, customer, days_past_due, bucket):
    make_invoice(organization, customer, amount="10.00", **_due(days_past_due))

    amounts = _bucket_amounts(selectors.aging_report(organization, AS_OF))

    assert amounts[bucket] == D("10.00")
    assert sum(amounts.values()) == D("10.00")


def test_aging_uses_the_organizations_own_buckets(organization, customer):
    organization.aging_buckets = [15, 45]
    organization.save()
    make_invoice(organization, customer, amount="10.00", **_due(20))
    make_invoice(organization, customer, amount="5.00", **_due(50))

    report = selectors.aging_report(organization, AS_OF)

    assert [b.label for b in report.buckets] == ["Current", "1-15", "16-45", "46+"]
    assert report.totals == [D("0"), D("0"), D("10.00"), D("5.00")]


def test_aging_by_customer_is_sorted_by_overdue_and_ties_to_the_total(organization, customer):
    slow = CustomerFactory(organization=organization, name="Slow Payer Ltd")
    make_invoice(organization, customer, amount="100.00", **_due(-5))
    make_invoice(organization, slow, amount="40.00", **_due(70))
    make_invoice(organization, slow, amount="60.00", **_due(10))

    report = selectors.aging_report(organization, AS_OF)

    assert [row.customer_name for row in report.rows] == ["Slow Payer Ltd", customer.name]
    assert report.rows[0].amounts == [D("0"), D("60.00"), D("0"), D("40.00"), D("0")]
    assert report.rows[0].invoice_count == 2
    assert report.total == D("200.00") and report.overdue == D("100.00")
    assert report.overdue_ratio == D("50.0")


def test_aging_as_of_a_past_date_ignores_later_payments_and_later_voids(organization, customer):
    paid_later = make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, 1),
                              due_date=dt.date(2026, 1, 31))
    voided_later = make_invoice(organization, customer, amount="30.00", issue_date=dt.date(2026, 1, 5),
                                due_date=dt.date(2026, 2, 4))
    make_invoice(organization, customer, amount="7.00", issue_date=dt.date(2026, 3, 1))  # not issued yet
    make_payment(organization, customer, amount="100.00", received_on=dt.date(2026, 2, 20))
    services.invoice_void(organization=organization, invoice=voided_later, actor=None, voided_on=dt.date(2026, 2, 25))

    before = selectors.aging_report(organization, dt.date(2026, 2, 15))
    after = selectors.aging_report(organization, dt.date(2026, 3, 31))

    assert before.total == D("130.00")
    assert _bucket_amounts(before)["d1_30"] == D("130.00")
    assert after.total == D("7.00")
    paid_later.refresh_from_db()
    assert paid_later.balance == 0


def test_aging_converts_to_base_currency_with_the_rate_of_the_as_of_date(organization):
    usd = CustomerFactory(organization=organization, name="Globex Inc", currency="USD")
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 1, 1),
                         rate=D("7.0"))
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 6, 1),
                         rate=D("7.25"))
    make_invoice(organization, usd, amount="100.00", **_due(5))

    assert selectors.aging_report(organization, AS_OF).total == D("725.00")
    assert selectors.aging_report(organization, dt.date(2026, 5, 31)).total == D("700.00")


def test_aging_without_an_fx_rate_says_which_one_is_missing(organization):
    usd = CustomerFactory(organization=organization, currency="USD")
    make_invoice(organization, usd, amount="100.00", **_due(5))

    with pytest.raises(DomainError, match="No USD to CNY exchange rate on or before 2026-06-30") as exc:
        selectors.aging_report(organization, AS_OF)
    assert exc.value.code == ErrorCode.MISSING_FX_RATE


def test_aging_never_shows_another_organizations_rows(organization, other_organization, customer):
    make_invoice(organization, customer, amount="10.00", **_due(5))
    foreign = CustomerFactory(organization=other_organization, currency="USD")
    make_invoice(other_organization, foreign, amount="99.00", **_due(5))

    report = selectors.aging_report(organization, AS_OF)

    assert [row.customer_id for row in report.rows] == [customer.pk]
    assert report.total == D("10.00")


def test_aging_query_count_does_not_grow_with_the_ledger(organization, customer):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            selectors.aging_report(organization, AS_OF)
        return len(queries)

    make_invoice(organization, customer, **_due(3))
    small = count_queries()
    others = [CustomerFactory(organization=organization) for _ in range(5)]
    for i in range(40):
        make_invoice(organization, others[i % 5], amount=f"{i + 1}.00", **_due(i * 3))
    make_payment(organization, others[0], amount="15.00", received_on=AS_OF)

    assert count_queries() == small <= 3


# --- DSO ------------------------------------------------------------------------------------

@pytest.fixture
def steady_sales(organization, customer):
    """100.00 invoiced on the 1st of each month Jan-Jun 2026, due in 30 days; all paid
    through March; April-June open."""
    for month in range(1, 7):
        make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, month, 1))
    make_payment(organization, customer, amount="300.00", received_on=dt.date(2026, 4, 15))
    return organization


def test_dso_standard_is_receivables_over_sales_times_days(steady_sales):
    report = selectors.dso_report(steady_sales, AS_OF, period_days=91)  # Apr 1 - Jun 30

    assert report.receivables == D("300.00")
    assert report.sales == D("300.00")
    assert report.standard == D("91.0")


def test_dso_countback_walks_back_through_monthly_sales(steady_sales):
    report = selectors.dso_report(steady_sales, AS_OF)

    # 300 of receivables = June (30 days) + May (31) + April (30) of 100 each.
    assert report.countback == D("91.0")
    june, = [p for p in report.trend if p.period_end == AS_OF]
    assert june.receivables == D("300.00") and june.sales == D("100.00")
    assert june.standard == D("90.0")  # 300 / 100 x 30 days


def test_dso_trend_has_one_point_per_month_ending_on_the_as_of_date(steady_sales):
    report = selectors.dso_report(steady_sales, dt.date(2026, 6, 15), months=6)

    assert [p.period_end for p in report.trend] == [
        dt.date(2026, 1, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30),
        dt.date(2026, 5, 31), dt.date(2026, 6, 15)]
    assert [p.receivables for p in report.trend] == [D("100.00"), D("200.00"), D("300.00"), D("100.00"),
                                                     D("200.00"), D("300.00")]


def test_dso_with_no_sales_is_none_not_a_division_error(organization):
    report = selectors.dso_report(organization, AS_OF)
    assert report.standard is None
    assert report.countback == 0


# --- statement ------------------------------------------------------------------------------

def test_statement_lists_open_items_with_a_running_balance(organization, customer):
    make_invoice(organization, customer, amount="100.00", number="A", issue_date=dt.date(2026, 1, 1))
    make_invoice(organization, customer, amount="50.00", number="B", issue_date=dt.date(2026, 2, 1))
    make_invoice(organization, customer, amount="25.00", number="C", issue_date=dt.date(2026, 3, 1))
    make_payment(organization, customer, amount="120.00", received_on=dt.date(2026, 3, 10))

    statement = selectors.customer_statement(organization, customer, dt.date(2026, 3, 31))

    lines = statement.lines_by_currency["CNY"]
    assert [(line.number, line.balance, line.running_balance) for line in lines] == [
        ("B", D("30.00"), D("30.00")), ("C", D("25.00"), D("55.00"))]
    assert lines[0].days_overdue == 28
    assert statement.balance("CNY") == D("55.00")


def test_statement_as_of_before_a_payment_shows_it_unpaid_and_cash_unapplied_by_date(organization, customer):
    make_invoice(organization, customer, amount="100.00", number="A", issue_date=dt.date(2026, 1, 1))
    make_payment(organization, customer, amount="150.00", received_on=dt.date(2026, 2, 1))

    before = selectors.customer_statement(organization, customer, dt.date(2026, 1, 20))
    after = selectors.customer_statement(organization, customer, dt.date(2026, 2, 20))

    assert before.balance("CNY") == D("100.00") and before.unapplied_by_currency == {}
    assert after.balance("CNY") == 0 and after.unapplied_by_currency == {"CNY": D("50.00")}


def test_statement_of_another_organizations_customer_is_not_found(organization, other_organization):
    foreign = CustomerFactory(organization=other_organization)
    with pytest.raises(DomainError, match="Not found"):
        selectors.customer_statement(organization, foreign, AS_OF)


def test_customer_list_outstanding_and_search(organization, customer):
    make_invoice(organization, customer, amount="100.00")
    make_payment(organization, customer, amount="40.00")
    CustomerFactory(organization=organization, name="Zeta GmbH")

    rows = {c.name: c.outstanding for c in selectors.customer_list(organization)}
    assert rows == {customer.name: D("60.00"), "Zeta GmbH": D("0")}
    assert [c.name for c in selectors.customer_list(organization, search="zeta")] == ["Zeta GmbH"]
