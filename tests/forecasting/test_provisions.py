"""Expected credit loss by the cohort method: the README's worked example to the cent, then overlays,
individual assessments, segments, a past date and the movement between two dates."""

import datetime as dt
from decimal import Decimal

import pytest

from forecasting import services
from forecasting.provisions import provision_matrix, provision_movement
from receivables import services as ledger
from tests.factories import CustomerFactory, make_invoice

D = dt.date
AS_OF = D(2026, 6, 30)
HISTORY = {"history_from": D(2025, 1, 1), "history_to": D(2025, 3, 31)}


def _invoice(organization, name, amount, issue, due, *, segment="standard"):
    customer = CustomerFactory(organization=organization, name=name, currency="CNY", segment=segment)
    return make_invoice(organization, customer, amount=amount, issue_date=issue, due_date=due)


def _pay(organization, invoice, amount, on):
    ledger.payment_record(organization=organization, actor=None, customer=invoice.customer, received_on=on,
                          amount=Decimal(amount))


def _write_off(organization, invoice, amount, on):
    invoice.refresh_from_db()
    ledger.invoice_write_off(organization=organization, actor=None, invoice=invoice, reason="Customer insolvent",
                             amount=Decimal(amount), written_off_on=on)


@pytest.fixture
def worked_example(organization):
    """The cohort (issued Q1 2025, 100,000.00 CNY) and the book open on 2026-06-30 (280,777.77 CNY)."""
    a = _invoice(organization, "A", "50000.00", D(2025, 1, 10), D(2025, 2, 9))
    _pay(organization, a, "50000.00", D(2025, 2, 5))                      # before due: never overdue
    b = _invoice(organization, "B", "20000.00", D(2025, 1, 20), D(2025, 2, 19))
    _pay(organization, b, "20000.00", D(2025, 3, 1))                      # 10 days late
    c = _invoice(organization, "C", "16000.00", D(2025, 2, 1), D(2025, 3, 3))
    _pay(organization, c, "6000.00", D(2025, 3, 20))                      # 17 days late
    _pay(organization, c, "10000.00", D(2025, 4, 17))                     # 45 days late
    d = _invoice(organization, "D", "8000.00", D(2025, 2, 15), D(2025, 3, 17))
    _write_off(organization, d, "8000.00", D(2025, 8, 1))                 # never paid
    e = _invoice(organization, "E", "6000.00", D(2025, 3, 1), D(2025, 3, 31))
    _pay(organization, e, "2000.00", D(2025, 4, 20))                      # 20 days late
    _pay(organization, e, "1000.00", D(2025, 6, 14))                      # 75 days late
    _write_off(organization, e, "3000.00", D(2026, 5, 5))                 # open a year after due: lost
    # The book on 2026-06-30, one invoice per aging bucket.
    _invoice(organization, "Current Co", "200000.00", D(2026, 6, 15), D(2026, 7, 15))
    _invoice(organization, "Late 20", "50000.00", D(2026, 5, 11), D(2026, 6, 10))
    _invoice(organization, "Late 41", "20000.00", D(2026, 4, 20), D(2026, 5, 20))
    _invoice(organization, "Late 71", "7777.77", D(2026, 3, 21), D(2026, 4, 20))
    _invoice(organization, "Late 121", "3000.00", D(2026, 1, 30), D(2026, 3, 1))
    return organization


def test_worked_example_cohort_rates_and_provision_to_the_cent(worked_example):
    # when
    provision = provision_matrix(worked_example, as_of=AS_OF, **HISTORY)

    # then: rates = never collected / outstanding on entering the bucket
    rows = {b.key: b for b in provision.buckets}
    assert [(b.key, b.cohort_base, b.cohort_loss) for b in provision.buckets] == [
        ("current", Decimal("100000.00"), Decimal("11000.00")),
        ("d1_30", Decimal("50000.00"), Decimal("11000.00")),
        ("d31_60", Decimal("22000.00"), Decimal("11000.00")),
        ("d61_90", Decimal("12000.00"), Decimal("11000.00")),
        ("d90_plus", Decimal("11000.00"), Decimal("11000.00")),
    ]
    assert [b.loss_rate for b in provision.buckets] == [
        Decimal("0.110000"), Decimal("0.220000"), Decimal("0.500000"), Decimal("0.916667"), Decimal("1.000000")]
    assert [b.balance for b in provision.buckets] == [
        Decimal("200000.00"), Decimal("50000.00"), Decimal("20000.00"), Decimal("7777.77"), Decimal("3000.00")]
    # 7,777.77 x 11,000 / 12,000 = 7,129.6225 -> 7,129.62 (the exact rate, rounded once)
    assert [b.ecl for b in provision.buckets] == [
        Decimal("22000.00"), Decimal("11000.00"), Decimal("10000.00"), Decimal("7129.62"), Decimal("3000.00")]
    assert provision.total_balance == Decimal("280777.77")
    assert provision.ecl_gross == provision.ecl_net == Decimal("53129.62")
    assert rows["d61_90"].historical_rate == Decimal(11000) / Decimal(12000)


def test_an_overlay_multiplies_its_bucket_from_its_date_and_is_audited(worked_example, credit_manager):
    # when: 1-30 days x 1.2 from June 2026
    services.provision_overlay_set(organization=worked_example, actor=credit_manager, bucket_key="d1_30",
                                   multiplier=Decimal("1.2"), reason="Sector slowdown", effective_from=D(2026, 6, 1))

    # then
    provision = provision_matrix(worked_example, as_of=AS_OF, **HISTORY)
    bucket = next(b for b in provision.buckets if b.key == "d1_30")
    assert (bucket.loss_rate, bucket.ecl, bucket.overlay_reason) == (Decimal("0.264000"), Decimal("13200.00"),
                                                                     "Sector slowdown")
    assert provision.ecl_gross == Decimal("55329.62")
    earlier = provision_matrix(worked_example, as_of=D(2026, 5, 31), **HISTORY)
    assert next(b for b in earlier.buckets if b.key == "d1_30").multiplier == 1
    from tenancy.models import AuditEntry

    assert AuditEntry.objects.filter(organization=worked_example, action="provision_overlay.set").count() == 1


def test_an_overlay_needs_a_reason_and_a_known_bucket(worked_example, credit_manager):
    from tenancy.errors import DomainError

    with pytest.raises(DomainError, match="Say why"):
        services.provision_overlay_set(organization=worked_example, actor=credit_manager, bucket_key="d1_30",
                                       multiplier=Decimal("1.2"), reason=" ", effective_from=AS_OF)
    with pytest.raises(DomainError, match="Unknown aging bucket"):
        services.provision_overlay_set(organization=worked_example, actor=credit_manager, bucket_key="d5_9",
                                       multiplier=Decimal("1.2"), reason="x", effective_from=AS_OF)


def test_a_customer_assessed_individually_leaves_the_matrix_at_its_own_rate(worked_example, credit_manager):
    from receivables.models import Customer

    # given: the customer with 20,000.00 in 31-60 days is insolvent, 60% expected lost
    customer = Customer.objects.get(organization=worked_example, name="Late 41")
    services.individual_assessment_set(organization=worked_example, actor=credit_manager, customer=customer,
                                       loss_rate=Decimal("0.6"), reason="Insolvency filed", assessed_on=D(2026, 6, 20))

    # when
    provision = provision_matrix(worked_example, as_of=AS_OF, **HISTORY)

    # then: 31-60 is empty; the customer is provided 12,000.00 on its own line
    assert next(b for b in provision.buckets if b.key == "d31_60").balance == 0
    (line,) = provision.individual
    assert (line.customer_id, line.balance, line.ecl, line.reason) == (customer.pk, Decimal("20000.00"),
                                                                       Decimal("12000.00"), "Insolvency filed")
    assert provision.total_balance == Decimal("280777.77")
    assert provision.ecl_gross == Decimal("53129.62") - Decimal("10000.00") + Decimal("12000.00")
    # before the assessment, the matrix held it
    assert provision_matrix(worked_example, as_of=D(2026, 6, 19), **HISTORY).individual == []


def test_a_blacklisted_customer_is_provided_at_the_settings_rate(worked_example, credit_manager):
    from credit.models import CreditProfile
    from receivables.models import Customer

    customer = Customer.objects.get(organization=worked_example, name="Late 121")
    CreditProfile.objects.create(organization=worked_example, customer=customer, blacklisted=True,
                                 blacklist_reason="Fraud", blacklisted_on=D(2026, 6, 1))
    provision = provision_matrix(worked_example, as_of=AS_OF, **HISTORY)
    (line,) = provision.individual
    assert (line.loss_rate, line.ecl, line.reason) == (Decimal(1), Decimal("3000.00"), "Blacklisted: Fraud")


def test_a_segment_has_its_own_rates_and_book(organization):
    good = _invoice(organization, "Gov", "1000.00", D(2025, 1, 10), D(2025, 2, 9), segment="government")
    _pay(organization, good, "1000.00", D(2025, 2, 5))
    bad = _invoice(organization, "Small", "1000.00", D(2025, 1, 10), D(2025, 2, 9), segment="small")
    _write_off(organization, bad, "1000.00", D(2025, 9, 1))
    _invoice(organization, "Gov now", "500.00", D(2026, 6, 1), D(2026, 7, 1), segment="government")
    _invoice(organization, "Small now", "500.00", D(2026, 6, 1), D(2026, 7, 1), segment="small")

    government = provision_matrix(organization, as_of=AS_OF, segment="government", **HISTORY)
    small = provision_matrix(organization, as_of=AS_OF, segment="small", **HISTORY)
    whole = provision_matrix(organization, as_of=AS_OF, **HISTORY)

    assert (government.total_balance, government.ecl_gross) == (Decimal("500.00"), Decimal("0.00"))
    assert (small.total_balance, small.ecl_gross) == (Decimal("500.00"), Decimal("500.00"))
    assert (whole.total_balance, whole.ecl_gross) == (Decimal("1000.00"), Decimal("500.00"))


def test_movement_opening_plus_charge_less_used_is_closing(worked_example):
    # given: the 90+ invoice is written off in July
    from receivables.models import Invoice

    late = Invoice.objects.get(organization=worked_example, customer__name="Late 121")
    _write_off(worked_example, late, "3000.00", D(2026, 7, 10))

    # when
    movement = provision_movement(worked_example, date_from=AS_OF, date_to=D(2026, 7, 31), **HISTORY)

    # then
    assert movement.opening == Decimal("53129.62")
    assert movement.used == Decimal("3000.00")
    assert movement.closing == provision_matrix(worked_example, as_of=D(2026, 7, 31), **HISTORY).ecl_net
    assert movement.opening + movement.charge - movement.used == movement.closing


def test_a_calibration_holds_the_rates_the_worker_computed_for_a_week(worked_example):
    """Loss rates are calibrated (by the daily task, or on demand) and applied to the live aging for up
    to seven days, as finance teams do with a provision matrix; an explicit window is always live."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from forecasting.models import LossRateCalibration

    # given: the rates calibrated on AS_OF from the worked example's cohort
    stored = services.loss_rates_calibrate(organization=worked_example, as_of=AS_OF, **HISTORY)
    assert [(rate["key"], Decimal(rate["base"]), Decimal(rate["loss"])) for rate in stored.rates][:2] == [
        ("current", Decimal("100000.00"), Decimal("11000.00")), ("d1_30", Decimal("50000.00"), Decimal("11000.00"))]
    # and then: a Q1 2025 invoice of 10,000.00 that was never paid (a loss the cohort did not have)
    _invoice(worked_example, "F", "10000.00", D(2025, 3, 15), D(2025, 4, 14))

    # when
    with CaptureQueriesContext(connection) as queries:
        calibrated = provision_matrix(worked_example, as_of=AS_OF)
    live = provision_matrix(worked_example, as_of=AS_OF, **HISTORY)

    # then: the calibrated rates on today's book (F now sits in 90+ at 100%)
    assert (calibrated.calibrated_on, calibrated.history_from, calibrated.history_to) == (
        AS_OF, HISTORY["history_from"], HISTORY["history_to"])
    assert calibrated.buckets[0].cohort_base == Decimal("100000.00")
    assert calibrated.total_balance == Decimal("290777.77")
    assert calibrated.ecl_gross == Decimal("63129.62")  # 53,129.62 + 10,000.00 x 1
    assert not any("open_at_maturity" in q["sql"] for q in queries.captured_queries)  # no cohort scan
    # the live window sees F in its cohort
    assert live.calibrated_on is None
    assert live.buckets[0].cohort_base == Decimal("110000.00")
    assert live.ecl_gross != calibrated.ecl_gross
    # a calibration a week old is not used any more; a later one replaces it
    assert provision_matrix(worked_example, as_of=AS_OF + dt.timedelta(days=7)).calibrated_on == AS_OF
    assert provision_matrix(worked_example, as_of=AS_OF + dt.timedelta(days=8)).calibrated_on is None
    again = services.loss_rates_calibrate(organization=worked_example, as_of=AS_OF, **HISTORY)
    assert LossRateCalibration.objects.filter(organization=worked_example).count() == 1
    assert Decimal(again.rates[0]["base"]) == Decimal("110000.00")


def test_the_daily_task_calibrates_the_loss_rates(organization):
    from forecasting.models import LossRateCalibration
    from forecasting.tasks import forecast_daily_task
    from tenancy.dates import local_today

    forecast_daily_task.delay(organization.pk)
    stored = LossRateCalibration.objects.get(organization=organization)
    assert stored.calibrated_on == local_today(organization.timezone)
    assert [rate["key"] for rate in stored.rates] == ["current", "d1_30", "d31_60", "d61_90", "d90_plus"]


def test_an_organization_can_choose_its_history_window(worked_example, admin_user):
    """A young organization has nothing in the rolling window (issued 395-759 days before the date):
    it chooses its window in the settings; calibrations and live provisions without a window use it."""
    from forecasting.models import ForecastSettings
    from tenancy.errors import DomainError

    admin = admin_user
    rolling = provision_matrix(worked_example, as_of=D(2026, 1, 31))  # rolling window: issued 2024
    assert rolling.buckets[0].cohort_base == Decimal("0")
    services.forecast_settings_update(organization=worked_example, actor=admin, **HISTORY)
    chosen = provision_matrix(worked_example, as_of=AS_OF)
    assert (chosen.history_from, chosen.history_to, chosen.ecl_gross) == (
        HISTORY["history_from"], HISTORY["history_to"], Decimal("53129.62"))
    assert services.loss_rates_calibrate(organization=worked_example, as_of=AS_OF).history_to == HISTORY["history_to"]
    with pytest.raises(DomainError):
        services.forecast_settings_update(organization=worked_example, actor=admin, history_from=D(2025, 4, 1),
                                          history_to=D(2025, 3, 1))
    assert ForecastSettings.objects.get(organization=worked_example).history_from == HISTORY["history_from"]
