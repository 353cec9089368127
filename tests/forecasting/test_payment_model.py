"""The payment-date model: features from history before the issue date only, the baseline, training,
storing, predicting with reasons."""

import datetime as dt
import random
from decimal import Decimal

import numpy as np
import pytest

from forecasting import payment_model as pm
from forecasting import services
from forecasting.models import InvoicePrediction, ModelMethod, PaymentModel
from forecasting.reasons import reasons_text
from receivables import services as ledger
from receivables.models import Customer
from tests.factories import CustomerFactory, make_invoice

D = dt.date


def _ledger(rows):
    """rows: (customer, issue, due, settled or None)."""
    n = len(rows)
    return pm.Ledger(
        invoice_id=np.arange(1, n + 1), customer_id=np.array([r[0] for r in rows]),
        issue_day=np.array([r[1].toordinal() for r in rows]), due_day=np.array([r[2].toordinal() for r in rows]),
        amount=np.full(n, 100.0),
        settled_day=np.array([r[3].toordinal() if r[3] else np.nan for r in rows], dtype=float),
        disputed=np.zeros(n, dtype=bool), is_open=np.array([r[3] is None for r in rows]))


def test_features_see_only_settlements_before_the_issue_date():
    # given: customer 1 paid invoice 1 ten days late on 2026-02-10, invoice 2 was issued on 2026-02-10
    # (same day: not yet known) and invoice 3 after it; customer 2 has no history
    matrix, baseline = pm.features_build(_ledger([
        (1, D(2026, 1, 1), D(2026, 1, 31), D(2026, 2, 10)),
        (1, D(2026, 2, 10), D(2026, 3, 12), D(2026, 4, 30)),
        (1, D(2026, 2, 11), D(2026, 3, 13), None),
        (2, D(2026, 2, 11), D(2026, 3, 13), None),
    ]))
    count, median = pm.FEATURES.index("history_count"), pm.FEATURES.index("history_median")
    assert list(matrix[:, count]) == [0, 0, 1, 0]
    assert np.isnan(matrix[1, median]) and matrix[2, median] == 10
    # the baseline: the customer's median, else everyone's settled before the issue date (else 0)
    assert list(baseline) == [0, 0, 10, 10]


def test_the_baseline_is_the_median_of_earlier_delays():
    days = dt.timedelta
    rows = [(1, D(2026, 1, d), D(2026, 1, d) + days(10), D(2026, 1, d) + days(10 + late))
            for d, late in ((1, 2), (2, 8), (3, 20))]
    rows.append((1, D(2026, 3, 1), D(2026, 3, 31), None))
    _matrix, baseline = pm.features_build(_ledger(rows))
    assert baseline[-1] == 8


def test_auc_is_the_rank_statistic():
    assert pm.auc(np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 1, 0, 0])) == 1.0
    assert pm.auc(np.array([0.1, 0.9, 0.5, 0.5]), np.array([1, 0, 1, 0])) == 0.125
    assert np.isnan(pm.auc(np.array([0.1]), np.array([1])))


@pytest.fixture
def history(organization):
    """12 customers, 25 invoices each through the ledger: some pay early, some late, disputed ones later."""
    rng = random.Random(7)
    from dunning.services import dispute_open  # noqa: F401 - disputes on record come from dunning or imports
    from forecasting.models import InvoiceDisputeFlag

    for c in range(12):
        customer = CustomerFactory(organization=organization, name=f"Customer {c}", currency="CNY")
        habit = [-3, 0, 5, 15, 30, 45][c % 6]
        for n in range(25):
            issue = D(2025, 1, 1) + dt.timedelta(days=14 * n + c)
            invoice = make_invoice(organization, customer, amount=f"{rng.randint(100, 5000)}.00", issue_date=issue,
                                   due_date=issue + dt.timedelta(days=30))
            disputed = rng.random() < 0.15
            if disputed:
                InvoiceDisputeFlag.objects.create(organization=organization, invoice=invoice, disputed=True)
            if n < 22:
                late = habit + rng.randint(-3, 3) + (20 if disputed else 0)
                ledger.payment_record(organization=organization, actor=None, customer=customer,
                                      amount=invoice.total_amount,
                                      received_on=max(issue, invoice.due_date + dt.timedelta(days=late)))
    return organization


def test_a_model_is_trained_stored_and_predicts_open_invoices_with_reasons(history):
    # when
    stored = services.payment_model_train(organization=history)
    count = services.predictions_refresh(organization=history, as_of=D(2026, 1, 1))

    # then: a stored model with its window, features and holdout metrics
    stored = PaymentModel.objects.get(pk=stored.pk)
    assert stored.method == ModelMethod.MODEL and stored.version == 1
    assert stored.train_count == 12 * 22 and stored.features == list(pm.FEATURES)
    assert stored.train_from <= stored.train_to
    assert set(stored.metrics) >= {"model_mae", "baseline_mae", "late_auc", "test_count"}
    assert stored.metrics["model_mae"] < stored.metrics["baseline_mae"]
    estimators = pm.Estimators.loads(bytes(stored.artifact))
    assert len(estimators.quantile) == 3
    # every open invoice predicted, dates ordered, not before today
    assert count == 12 * 3
    predictions = list(InvoicePrediction.objects.filter(organization=history))
    assert len(predictions) == count
    assert all(D(2026, 1, 1) <= p.p10_date <= p.expected_date <= p.p90_date for p in predictions)
    assert all(0 <= p.probability_late <= 1 for p in predictions)
    assert any(p.reasons for p in predictions)
    assert all(isinstance(text, str) and text for p in predictions for text in reasons_text(p.reasons))
    # the slow payers are more likely late than the early ones
    late = {p.invoice.customer.name: p.probability_late for p in InvoicePrediction.objects.select_related(
        "invoice__customer")}
    assert late["Customer 5"] > Decimal("0.5") > late["Customer 0"]


def test_a_model_is_fitted_on_a_sample_of_the_settled_invoices_at_most(history, settings):
    # given: room for 100 of the 264 settled invoices
    settings.FORECAST_TRAINING_ROWS = 100
    days = services.ledger_load(history).settled_day
    settled_days = sorted(days[~np.isnan(days)])

    # when
    stored = services.payment_model_train(organization=history)
    again = services.payment_model_train(organization=history)

    # then: 100 of them from across the history (not the last 100), the same 100 each time
    assert stored.train_count == 100 and stored.method == ModelMethod.MODEL
    assert stored.train_from < dt.date.fromordinal(int(settled_days[-100]))
    assert stored.train_to <= dt.date.fromordinal(int(settled_days[-1]))
    assert (again.train_from, again.train_to, bytes(again.artifact)) == (
        stored.train_from, stored.train_to, bytes(stored.artifact))
    assert services.predictions_refresh(organization=history, as_of=D(2026, 1, 1)) == 12 * 3


def test_a_sample_keeps_every_row_when_there_are_few_and_draws_uniformly_otherwise():
    rows = np.array([True, True, False, True, True] * 2000)
    assert services._sample(rows, 10_000) is rows
    assert services._sample(rows, 0) is rows
    drawn = services._sample(rows, 4000)
    assert drawn.sum() == 4000 and not (drawn & ~rows).any()
    assert 1800 < drawn[:5000].sum() < 2200  # both halves drawn alike
    assert (services._sample(rows, 4000) == drawn).all()


def test_a_refresh_updates_the_stored_predictions_drops_the_settled_and_adds_the_new(history, other_organization):
    # given: another organization's predictions, ours stored, then an invoice settled, a new one issued
    # and a new model version
    theirs = make_invoice(other_organization, CustomerFactory(organization=other_organization), amount="70.00",
                          issue_date=D(2025, 12, 1), due_date=D(2025, 12, 31))
    services.predictions_refresh(organization=other_organization, as_of=D(2026, 1, 1))
    their_rows = list(InvoicePrediction.objects.filter(organization=other_organization).values())
    services.payment_model_train(organization=history)
    services.predictions_refresh(organization=history, as_of=D(2026, 1, 1))
    stored = {p.invoice_id: p for p in InvoicePrediction.objects.filter(organization=history)}
    customer = Customer.objects.get(organization=history, name="Customer 3")
    oldest, *rest = sorted((i for i in stored.values() if i.invoice.customer_id == customer.pk),
                           key=lambda p: (p.invoice.due_date, p.invoice_id))
    ledger.payment_record(organization=history, actor=None, customer=customer, amount=oldest.invoice.total_amount,
                          received_on=D(2026, 1, 2))
    new = make_invoice(history, customer, amount="900.00", issue_date=D(2026, 1, 2), due_date=D(2026, 2, 1))
    second = services.payment_model_train(organization=history)

    # when
    count = services.predictions_refresh(organization=history, as_of=D(2026, 1, 5))

    # then: the settled invoice's row is gone, the new invoice has one, the others were updated in place
    after = {p.invoice_id: p for p in InvoicePrediction.objects.filter(organization=history)}
    assert count == len(after) == len(stored)
    assert oldest.invoice_id not in after and new.pk in after
    kept = rest[0].invoice_id
    assert after[kept].pk == stored[kept].pk
    assert after[kept].payment_model_id == second.pk != stored[kept].payment_model_id
    assert after[kept].p10_date >= D(2026, 1, 5) and after[kept].predicted_at > stored[kept].predicted_at
    # and the other organization's rows are untouched
    assert [row["invoice_id"] for row in their_rows] == [theirs.pk]
    assert list(InvoicePrediction.objects.filter(organization=other_organization).values()) == their_rows
