"""The payment-date model's arithmetic, free of the database: features known at an invoice's issue
date, the baseline, the four estimators (P10/P50/P90 of the delay, probability of paying late),
their evaluation and each prediction's top reasons.

Delays are days from the due date to the settlement date (negative: paid early). An invoice's
history features describe the customer's invoices *settled before its issue date*, so training
never sees what happened after an invoice was issued (no leakage). Dates are whole days (ordinals).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field

import numpy as np

FEATURES = (
    "history_count",        # the customer's invoices settled before the issue date
    "history_median",       # their median delay (days)
    "history_mean",
    "history_spread",       # standard deviation of their delays
    "history_worst",
    "history_share_late",
    "history_recency",      # days since the customer's last settlement
    "history_last",         # the delay of that last settlement
    "history_dispute_share",
    "amount_log",
    "amount_vs_usual",      # amount / the customer's mean past amount
    "terms_days",
    "issue_month",
    "disputed",             # a dispute on record for this invoice
    "promises_before",      # promises to pay the customer made before the issue date
    "broken_promises_before",
)
QUANTILES = (0.1, 0.5, 0.9)
# The features a reason can name (the others, such as the amount's logarithm, say little in words).
REASON_FEATURES = ("history_count", "history_median", "history_share_late", "history_worst", "history_last",
                   "history_dispute_share", "amount_vs_usual", "disputed", "broken_promises_before")
# OpenMP threads for fitting and predicting (FORECAST_THREADS; 0 = all cores). One by default: a Celery
# worker already runs a task per core, and OpenMP threads waiting for busy cores are many times slower.
THREADS = int(os.environ.get("FORECAST_THREADS", "1")) or None
MIN_CLASS_COUNT = 10  # a classifier needs this many late and on-time invoices; else the history's share late


@dataclass
class Ledger:
    """One organization's invoices as arrays (one element per invoice, any order)."""

    invoice_id: np.ndarray
    customer_id: np.ndarray
    issue_day: np.ndarray      # date ordinals
    due_day: np.ndarray
    amount: np.ndarray         # float, for features only
    settled_day: np.ndarray    # float ordinal, NaN when not settled by payment
    disputed: np.ndarray       # bool
    is_open: np.ndarray        # bool: a balance is still due
    promises: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # customer -> (made, broken days)

    @property
    def delay(self) -> np.ndarray:
        return self.settled_day - self.due_day

    def __len__(self) -> int:
        return len(self.invoice_id)


def _expanding_median(values: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    import pandas as pd  # only where the model runs (the worker), not in every process that loads the app

    series = pd.Series(values)
    if groups is None:
        return series.expanding().median().to_numpy()
    return series.groupby(groups, sort=False).expanding().median().reset_index(level=0, drop=True).sort_index().to_numpy()


def features_build(ledger: Ledger, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(feature matrix in FEATURES order, baseline delay) for every invoice of the ledger, or for the
    invoices at positions `rows` only (the open ones, to predict them): the customers' histories still
    come from every settlement, and each row is the one the whole ledger's matrix has there."""
    settled = ~np.isnan(ledger.settled_day)
    rows = np.arange(len(ledger)) if rows is None else np.asarray(rows)
    n = len(rows)
    t_customer, t_issue, t_due = ledger.customer_id[rows], ledger.issue_day[rows], ledger.due_day[rows]
    t_amount, t_disputed = ledger.amount[rows], ledger.disputed[rows]
    # The customer's settlements in (customer, settlement day) order.
    s_idx = np.flatnonzero(settled)
    order = np.lexsort((ledger.settled_day[s_idx], ledger.customer_id[s_idx]))
    s_idx = s_idx[order]
    s_cust = ledger.customer_id[s_idx]
    s_day = ledger.settled_day[s_idx].astype(np.int64)
    s_delay = (ledger.settled_day[s_idx] - ledger.due_day[s_idx]).astype(float)
    s_late = (s_delay > 0).astype(float)
    s_disp = ledger.disputed[s_idx].astype(float)
    s_amount = ledger.amount[s_idx].astype(float)

    # Customers as dense codes; key = code * SPAN + day keeps each customer's days in one sorted run.
    customers, codes = np.unique(np.concatenate([s_cust, t_customer]), return_inverse=True)
    s_code, t_code = codes[:len(s_idx)], codes[len(s_idx):]
    span = np.int64(10_000_000)
    s_key = s_code.astype(np.int64) * span + s_day
    t_key = t_code.astype(np.int64) * span + t_issue.astype(np.int64)
    end = np.searchsorted(s_key, t_key, side="left")  # settlements strictly before the issue date
    start = np.searchsorted(s_key, t_code.astype(np.int64) * span, side="left")
    count = end - start
    has = count > 0
    last = np.where(has, end - 1, 0)

    def prefix(values: np.ndarray) -> np.ndarray:
        total = np.concatenate([[0.0], np.cumsum(values)])
        return total[end] - total[start]

    with np.errstate(invalid="ignore", divide="ignore"):
        mean = prefix(s_delay) / count
        mean_sq = prefix(s_delay ** 2) / count
        spread = np.sqrt(np.maximum(mean_sq - mean ** 2, 0))
        share_late = prefix(s_late) / count
        dispute_share = prefix(s_disp) / count
        usual_amount = prefix(s_amount) / count
    if len(s_idx):
        import pandas as pd

        worst_all = pd.Series(s_delay).groupby(s_code).cummax().to_numpy()
        median_all = _expanding_median(s_delay, s_code)
        worst, median = worst_all[last], median_all[last]
        recency = t_issue - s_day[last]
        last_delay = s_delay[last]
    else:
        worst = median = recency = last_delay = np.zeros(n)
    nan = np.full(n, np.nan)
    worst, median = np.where(has, worst, nan), np.where(has, median, nan)
    recency, last_delay = np.where(has, recency, nan), np.where(has, last_delay, nan)

    # Promises to pay on record before the issue date, per customer.
    promises_before = np.zeros(n)
    broken_before = np.zeros(n)
    for customer, (made, broken) in ledger.promises.items():
        mask = t_customer == customer
        if mask.any():
            days = t_issue[mask]
            promises_before[mask] = np.searchsorted(np.sort(made), days, side="left")
            broken_before[mask] = np.searchsorted(np.sort(broken), days, side="left")

    months = (ordinals_to_dates(t_issue).astype("datetime64[M]").astype(np.int64) % 12) + 1
    matrix = np.column_stack([
        count, median, mean, spread, worst, share_late, recency, last_delay, dispute_share,
        np.log1p(np.maximum(t_amount.astype(float), 0)),
        np.where(has, t_amount.astype(float) / np.where(usual_amount > 0, usual_amount, np.nan), nan),
        t_due - t_issue,
        months,
        t_disputed.astype(float),
        promises_before, broken_before,
    ]).astype(float)

    # Baseline: the customer's median delay before the issue date, else everyone's.
    g_order = np.argsort(s_day, kind="stable")
    g_day = s_day[g_order]
    g_median = _expanding_median(s_delay[g_order], None) if len(s_idx) else np.zeros(0)
    g_end = np.searchsorted(g_day, t_issue.astype(np.int64), side="left")
    overall = np.where(g_end > 0, g_median[np.maximum(g_end - 1, 0)] if len(g_median) else 0.0, 0.0)
    baseline = np.where(has, median, overall)
    del customers
    return matrix, baseline


EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()


def ordinals_to_dates(days: np.ndarray) -> np.ndarray:
    """Date ordinals as numpy datetime64[D]."""
    return (np.asarray(days, dtype=np.int64) - EPOCH_ORDINAL).astype("datetime64[D]")


@dataclass
class Estimators:
    quantile: list  # P10, P50, P90 regressors of the delay
    late: object | None  # classifier; None: `late_share` for everyone
    late_share: float
    reference: np.ndarray  # each feature's training median, for the reasons

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def loads(blob: bytes) -> Estimators:
        return pickle.loads(blob)  # noqa: S301 - written by Estimators.dumps into our own database


def estimators_fit(matrix: np.ndarray, delay: np.ndarray, *, max_iter: int = 100) -> Estimators:
    """Fit the quantile regressors and the late classifier on settled invoices' features and delays."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=THREADS):
        return _fit(HistGradientBoostingClassifier, HistGradientBoostingRegressor, matrix, delay, max_iter)


def _fit(classifier_class, regressor_class, matrix: np.ndarray, delay: np.ndarray, max_iter: int) -> Estimators:
    common = {"max_iter": max_iter, "learning_rate": 0.05, "max_leaf_nodes": 31, "min_samples_leaf": 20,
              "early_stopping": False, "random_state": 0}
    quantile = [regressor_class(loss="quantile", quantile=q, **common).fit(matrix, delay)
                for q in QUANTILES]
    late = delay > 0
    classifier = None
    if min(late.sum(), (~late).sum()) >= MIN_CLASS_COUNT:
        classifier = classifier_class(**common).fit(matrix, late)
    reference = np.nanmedian(matrix, axis=0) if len(matrix) else np.zeros(matrix.shape[1])
    return Estimators(quantile, classifier, float(late.mean()) if len(late) else 0.0, np.nan_to_num(reference))


@dataclass
class Prediction:
    p10: np.ndarray  # delays in days (float)
    p50: np.ndarray
    p90: np.ndarray
    probability_late: np.ndarray
    median_raw: np.ndarray | None = None  # the P50 regressor's own output (before the three are sorted)


def estimators_predict(estimators: Estimators, matrix: np.ndarray) -> Prediction:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=THREADS):
        return _predict(estimators, matrix)


def _predict(estimators: Estimators, matrix: np.ndarray) -> Prediction:
    if not len(matrix):
        empty = np.zeros(0)
        return Prediction(empty, empty, empty, empty)
    outputs = [model.predict(matrix) for model in estimators.quantile]
    raw = np.sort(np.column_stack(outputs), axis=1)  # no crossing
    if estimators.late is not None:
        probability = estimators.late.predict_proba(matrix)[:, 1]
    else:
        probability = np.full(len(matrix), estimators.late_share)
    return Prediction(raw[:, 0], raw[:, 1], raw[:, 2], probability, outputs[1])


def reasons_compute(estimators: Estimators, matrix: np.ndarray, *, top: int = 3, min_days: float = 1.0,
                    median: np.ndarray | None = None) -> list[str]:
    """Per invoice, the features that move its P50 most: the P50 with the feature set to the training
    median, against the P50 as is (one batched prediction for all features). Each invoice's reasons
    come as JSON text: a list of {"feature", "days", "value"}, largest effect first, those of at least
    `min_days` only. `median`: the P50 regressor's own prediction for `matrix`, when already made
    (Prediction.median_raw)."""
    if not len(matrix):
        return []
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=THREADS):
        return _reasons(estimators, matrix, top, min_days, median)


def _reasons(estimators: Estimators, matrix: np.ndarray, top: int, min_days: float,
             median: np.ndarray | None) -> list[str]:
    model = estimators.quantile[1]
    n = len(matrix)
    columns = [FEATURES.index(name) for name in REASON_FEATURES]
    base = model.predict(matrix) if median is None else median
    effect = np.zeros((len(columns), n))  # + : this feature makes the invoice later than usual
    for j, column in enumerate(columns):
        # Only rows whose value is not the median already can move (NaN counts as different).
        differs = ~(matrix[:, column] == estimators.reference[column])
        if differs.any():
            moved = matrix[differs]
            moved[:, column] = estimators.reference[column]
            effect[j, differs] = base[differs] - model.predict(moved)
    # The top features per invoice as JSON text, from plain lists: a dict and a json.dumps per invoice
    # took seconds at 100,000 open invoices (and numpy's string operations one).
    order = np.argsort(-np.abs(effect), axis=0, kind="stable")[:top]  # (top, n)
    days = np.round(np.take_along_axis(effect, order, axis=0), 1)
    values = np.round(matrix[np.arange(n)[None, :], np.asarray(columns)[order]], 4).tolist()
    shown = (np.abs(days) >= min_days).tolist()
    names, days = np.asarray(REASON_FEATURES)[order].tolist(), days.tolist()
    slots = range(len(names))
    return ["[" + ", ".join(
        f'{{"feature": "{names[k][i]}", "days": {days[k][i]!r}, '
        f'"value": {"null" if values[k][i] != values[k][i] else repr(values[k][i])}}}'  # NaN != NaN: null
        for k in slots if shown[k][i]) + "]" for i in range(n)]


def mae(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.mean(np.abs(predicted - actual))) if len(actual) else float("nan")


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (rank statistic, ties shared); NaN when one class is missing."""
    labels = labels.astype(bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if not positives or not negatives:
        return float("nan")
    import pandas as pd

    ranks = pd.Series(scores).rank(method="average").to_numpy()
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))
