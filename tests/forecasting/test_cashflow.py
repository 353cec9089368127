"""The 13-week cash forecast: predicted dates, promises, disputes, week starts, the band, the
drill-down, snapshots and their accuracy per horizon."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from forecasting import services
from forecasting.cashflow import cash_forecast, forecast_accuracy, forecast_snapshot_store, forecast_week_lines
from forecasting.models import ForecastSettings, InvoicePrediction, ModelMethod
from receivables import services as ledger
from tests.factories import CustomerFactory, make_invoice

D = dt.date
AS_OF = D(2026, 3, 4)  # a Wednesday; weeks start on Mondays: 2026-03-02, 03-09, 03-16...


def _customer(organization, name):
    return CustomerFactory(organization=organization, name=name, currency="CNY")


def _settled_late(organization, customer, *, days_late, count=3):
    """`count` invoices of 100.00 from January, each paid `days_late` days after its due date."""
    for n in range(count):
        issue = D(2026, 1, 2) + dt.timedelta(days=n)
        invoice = make_invoice(organization, customer, amount="100.00", issue_date=issue,
                               due_date=issue + dt.timedelta(days=10))
        ledger.payment_record(organization=organization, actor=None, customer=customer, amount=Decimal("100.00"),
                              received_on=invoice.due_date + dt.timedelta(days=days_late))


@pytest.fixture
def book(organization):
    """A customer who always pays 5 days late, with 1,000.00 open due 2026-03-10."""
    steady = _customer(organization, "Steady")
    _settled_late(organization, steady, days_late=5)
    open_invoice = make_invoice(organization, steady, amount="1000.00", issue_date=D(2026, 2, 8),
                                due_date=D(2026, 3, 10))
    services.predictions_refresh(organization=organization, as_of=AS_OF)
    return open_invoice


def test_too_little_history_stores_the_baseline_and_says_so(organization, book):
    stored = services.payment_model_train(organization=organization)
    assert stored.method == ModelMethod.BASELINE
    assert stored.note == "Too little history: 3 settled invoices, 200 needed; predictions use the baseline."
    assert (stored.version, services.payment_model_train(organization=organization).version) == (1, 2)


def test_the_baseline_expects_due_plus_the_customers_median_delay(organization, book):
    prediction = InvoicePrediction.objects.get(invoice=book)
    assert (prediction.method, prediction.expected_date, prediction.p10_date, prediction.p90_date) == (
        ModelMethod.BASELINE, D(2026, 3, 15), D(2026, 3, 15), D(2026, 3, 15))
    forecast = cash_forecast(organization, as_of=AS_OF)
    assert len(forecast.weeks) == 13
    assert [w.week_start for w in forecast.weeks[:3]] == [D(2026, 3, 2), D(2026, 3, 9), D(2026, 3, 16)]
    assert [w.p50 for w in forecast.weeks[:3]] == [Decimal("0.00"), Decimal("1000.00"), Decimal("0.00")]
    assert forecast.weeks[1].sources["invoices"] == Decimal("1000.00")
    assert forecast.weeks[1].baseline == Decimal("1000.00")


def test_weeks_begin_on_the_organizations_week_start(organization, book):
    ForecastSettings.objects.create(organization=organization, week_start=6)  # Sunday
    forecast = cash_forecast(organization, as_of=AS_OF)
    assert forecast.weeks[0].week_start == D(2026, 3, 1)
    # 2026-03-15 is a Sunday: the first day of the third week now
    assert [w.p50 for w in forecast.weeks[:3]] == [Decimal("0.00"), Decimal("0.00"), Decimal("1000.00")]


def test_a_promise_moves_the_promised_part_to_its_date(organization, book, collector):
    from dunning.services import promise_create

    with time_machine.travel(dt.datetime(2026, 3, 4, 4, 0, tzinfo=dt.UTC), tick=False):
        promise_create(organization=organization, actor=collector, customer=book.customer, invoices=[book],
                       amount="400.00", promised_date=D(2026, 3, 25))
    forecast = cash_forecast(organization, as_of=AS_OF)
    assert forecast.weeks[1].sources["invoices"] == Decimal("600.00")
    assert forecast.weeks[3].sources["promises"] == Decimal("400.00")
    assert forecast.weeks[3].p50 == forecast.weeks[3].p10 == forecast.weeks[3].p90 == Decimal("400.00")


def test_a_disputed_amount_is_left_out_or_haircut(organization, book, collector):
    from dunning.services import dispute_open

    with time_machine.travel(dt.datetime(2026, 3, 4, 4, 0, tzinfo=dt.UTC), tick=False):
        dispute_open(organization=organization, actor=collector, invoice=book, reason="price", amount="200.00")
    excluded = cash_forecast(organization, as_of=AS_OF)
    assert (excluded.weeks[1].p50, excluded.disputed_held_back) == (Decimal("800.00"), Decimal("200.00"))

    ForecastSettings.objects.create(organization=organization, disputed_mode="haircut", dispute_haircut_percent=25)
    haircut = cash_forecast(organization, as_of=AS_OF)
    assert (haircut.weeks[1].p50, haircut.disputed_held_back) == (Decimal("950.00"), Decimal("50.00"))


def test_an_uncertain_invoice_spreads_over_weeks_inside_a_band(organization, book):
    # given: the prediction's P10..P90 spans three weeks
    InvoicePrediction.objects.filter(invoice=book).update(p10_date=D(2026, 3, 10), expected_date=D(2026, 3, 18),
                                                          p90_date=D(2026, 3, 30))
    forecast = cash_forecast(organization, as_of=AS_OF)
    p50 = [w.p50 for w in forecast.weeks]
    # every cent of the balance lands in exactly one week or after the horizon
    assert sum(p50, Decimal(0)) + forecast.later == Decimal("1000.00")
    assert p50[1] > 0 and p50[2] > 0 and p50[4] > 0
    assert all(w.p10 <= w.p50 <= w.p90 for w in forecast.weeks)
    assert forecast.weeks[2].p90 > forecast.weeks[2].p50 > forecast.weeks[2].p10


def test_each_weeks_sources_add_up_to_its_p50_to_the_cent(organization, book, collector):
    from dunning.services import promise_create

    # given: a promise of a third (to the cent) and a spread-out remainder
    InvoicePrediction.objects.filter(invoice=book).update(p10_date=D(2026, 3, 10), expected_date=D(2026, 3, 18),
                                                          p90_date=D(2026, 4, 20))
    with time_machine.travel(dt.datetime(2026, 3, 4, 4, 0, tzinfo=dt.UTC), tick=False):
        promise_create(organization=organization, actor=collector, customer=book.customer, invoices=[book],
                       amount="333.33", promised_date=D(2026, 3, 25))
    forecast = cash_forecast(organization, as_of=AS_OF)
    for week in forecast.weeks:
        assert week.p50 == sum(week.sources.values(), Decimal(0))
        assert week.collections == week.sources["invoices"] + week.sources["promises"] + week.sources["plans"]
        assert week.p50.as_tuple().exponent == -2
    assert forecast.weeks[3].sources["promises"] == Decimal("333.33")
    invoices = sum((w.sources["invoices"] for w in forecast.weeks), Decimal(0))
    assert invoices + forecast.later == Decimal("666.67")
    assert forecast.open_balance == Decimal("1000.00")


def test_new_sales_at_the_run_rate_arrive_on_the_collection_curve(organization, book):
    """Worked example. Run rate: the 13 whole weeks before this one (2025-12-01..2026-03-01) invoiced
    3 x 100.00 + 1,000.00 = 1,300.00, so 100.00 a week. Curve, by weeks after the week of issue, over the
    invoices issued in the last 52 weeks whose week is over: the three 100.00 invoices (week of 2025-12-29)
    were paid 2026-01-17 and 01-18 (2 weeks on) and 01-19 (3 weeks on); the 1,000.00 (week of 2026-02-02)
    is unpaid after 0..3 weeks. Lag 2: 200.00 / 1,300.00 = 2/13; lag 3: 100.00 / 1,300.00 = 1/13; lags 4..8
    (only the older cohort has lived them): 0 / 300.00. Sales start next week (week 1): week 3 gets
    100.00 x 2/13 = 15.38; weeks 4..12 get 100.00 x (2/13 + 1/13) = 23.08."""
    without = cash_forecast(organization, as_of=AS_OF)
    assert all(w.sources["new_sales"] == Decimal("0.00") for w in without.weeks)

    forecast = cash_forecast(organization, as_of=AS_OF, new_sales=True)
    new_sales = [w.sources["new_sales"] for w in forecast.weeks]
    assert new_sales == [Decimal("0.00")] * 3 + [Decimal("15.38")] + [Decimal("23.08")] * 9
    assert forecast.new_sales_run_rate == Decimal("100.00")
    # new sales are in p50 but not in the customers' collections that accuracy measures
    assert forecast.weeks[4].p50 == without.weeks[4].p50 + Decimal("23.08")
    assert forecast.weeks[4].collections == without.weeks[4].collections

    # the organization's setting turns it on by default
    ForecastSettings.objects.create(organization=organization, include_new_sales=True)
    assert cash_forecast(organization, as_of=AS_OF).weeks[4].sources["new_sales"] == Decimal("23.08")


def test_a_weeks_figure_drills_down_to_its_invoices(organization, book):
    lines = forecast_week_lines(organization, as_of=AS_OF, week_start=D(2026, 3, 9))
    assert [(line.number, line.amount, line.expected_date) for line in lines] == [
        (book.number, Decimal("1000.00"), D(2026, 3, 15))]
    assert forecast_week_lines(organization, as_of=AS_OF, week_start=D(2026, 3, 16)) == []


def test_snapshots_are_stored_once_a_week_and_measured_per_horizon(organization, book):
    # given: this week's snapshot, stored twice (the second finds the first)
    first = forecast_snapshot_store(organization=organization, as_of=AS_OF)
    again = forecast_snapshot_store(organization=organization, as_of=AS_OF + dt.timedelta(days=1))
    assert first.pk == again.pk
    # when: the customer pays 900.00 on 2026-03-12 (week 2: forecast 1,000.00)
    ledger.payment_record(organization=organization, actor=None, customer=book.customer, amount=Decimal("900.00"),
                          received_on=D(2026, 3, 12))
    accuracy = {row.horizon: row for row in forecast_accuracy(organization, as_of=D(2026, 3, 20))}

    # then: horizons 1 and 2 have ended; horizon 2: |1000 - 900| / 900
    assert (accuracy[1].weeks, accuracy[2].weeks, accuracy[3].weeks) == (1, 1, 0)
    assert accuracy[2].actual == Decimal("900.00")
    assert accuracy[2].wape == Decimal("0.1111")
    assert accuracy[2].bias == Decimal("0.1111")
    assert accuracy[2].baseline_wape == Decimal("0.1111")
    assert accuracy[1].wape is None  # nothing was collected in week 1


def test_the_open_balance_is_rounded_once_as_the_aging_rounds_it(organization, collector):
    """Two USD parts of 7.104 CNY each (1.00 USD at 7.104): rounded per source they would make 14.20;
    the book is 2.00 USD = 14.208 -> 14.21 CNY, as the aging says, and the weeks split that."""
    from dunning.services import promise_create
    from receivables.selectors import aging_report
    from receivables.services import fx_rate_set

    fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=D(2026, 3, 1),
                rate=Decimal("7.104"))
    customer = CustomerFactory(organization=organization, name="Dollar Buyer", currency="USD")
    invoice = make_invoice(organization, customer, amount="2.00", issue_date=D(2026, 2, 8), due_date=D(2026, 3, 10),
                           currency="USD")
    with time_machine.travel(dt.datetime(2026, 3, 4, 4, 0, tzinfo=dt.UTC), tick=False):
        promise_create(organization=organization, actor=collector, customer=customer, invoices=[invoice],
                       amount="1.00", promised_date=D(2026, 3, 25))
    forecast = cash_forecast(organization, as_of=AS_OF)
    aging = aging_report(organization, AS_OF)
    assert forecast.open_balance == sum((row.total for row in aging.rows), Decimal(0)) == Decimal("14.21")
    spread = sum((sum(w.sources.values(), Decimal(0)) for w in forecast.weeks), Decimal(0))
    assert spread + forecast.later + forecast.disputed_held_back == Decimal("14.21")
