"""Forecasting writes: training and storing payment models, refreshing each open invoice's
prediction, dispute flags from imports, provision overlays and individual assessments, settings
and the weekly forecast snapshot. Keyword-only, atomic, audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from receivables.models import Customer
from tenancy.db import columns_copy, columns_insert
from tenancy.errors import DomainError
from tenancy.models import Organization, Role
from tenancy.services import Actor, audit_record, model_check, role_require, same_organization_check

from . import payment_model as pm
from .models import (
    DisputedMode,
    ForecastSettings,
    IndividualAssessment,
    InvoiceDisputeFlag,
    InvoicePrediction,
    LossRateCalibration,
    ModelMethod,
    PaymentModel,
    ProvisionOverlay,
)
from .selectors import forecast_settings, ledger_load, payment_model_current

HOLDOUT_SHARE = 0.2  # the most recently issued fifth of the settled invoices measures each stored model


def training_rows_max() -> int:
    """How many settled invoices a model is fitted on at most (FORECAST_TRAINING_ROWS): a uniform sample
    of them, the same for the same ledger; their features still see the whole history. On the
    1,000,000-invoice bench ledger (609,689 invoices settled before the holdout split; one run, load
    about 7) a sample of 300,000 gave a holdout MAE of 5.16 days in a 66 s fit, every row 5.18 in
    231 s, the baseline 5.25; the 300,000 settled last gave 6.22: a window of recent settlements
    over-weights the late payers of older invoices, whose faster peers settled before it."""
    from django.conf import settings

    return int(getattr(settings, "FORECAST_TRAINING_ROWS", 300_000))


def _sample(rows: np.ndarray, limit: int) -> np.ndarray:
    """At most `limit` of the True rows of the mask `rows`, drawn uniformly (seeded: the same rows for
    the same ledger); all of them when there are fewer."""
    index = np.flatnonzero(rows)
    if limit <= 0 or len(index) <= limit:
        return rows
    mask = np.zeros_like(rows)
    mask[np.random.default_rng(0).choice(index, limit, replace=False)] = True
    return mask


@dataclass
class Evaluation:
    split_date: dt.date
    train_count: int
    test_count: int
    model_mae: float
    baseline_mae: float
    late_auc: float

    @property
    def improvement(self) -> float:
        """How much lower the model's MAE is than the baseline's (0.25 = 25% lower)."""
        return 1 - self.model_mae / self.baseline_mae if self.baseline_mae else 0.0

    def as_dict(self) -> dict[str, Any]:
        def number(value: float) -> float | None:
            return None if np.isnan(value) else round(value, 4)

        return {"split_date": self.split_date.isoformat(), "train_count": self.train_count,
                "test_count": self.test_count, "model_mae": number(self.model_mae),
                "baseline_mae": number(self.baseline_mae), "late_auc": number(self.late_auc),
                "improvement": number(self.improvement)}


def _evaluate(ledger: pm.Ledger, matrix: np.ndarray, baseline: np.ndarray, split: dt.date
              ) -> tuple[Evaluation, pm.Estimators | None]:
    """Train on invoices settled before `split`, test on the settled invoices issued on or after it."""
    day = split.toordinal()
    settled = ~np.isnan(ledger.settled_day)
    train = _sample(settled & (ledger.settled_day < day), training_rows_max())
    test = settled & (ledger.issue_day >= day)
    delay = ledger.delay
    if train.sum() < pm.MIN_CLASS_COUNT or not test.any():
        nan = float("nan")
        return Evaluation(split, int(train.sum()), int(test.sum()), nan, nan, nan), None
    estimators = pm.estimators_fit(matrix[train], delay[train])
    predicted = pm.estimators_predict(estimators, matrix[test])
    return Evaluation(split, int(train.sum()), int(test.sum()), pm.mae(predicted.p50, delay[test]),
                      pm.mae(baseline[test], delay[test]), pm.auc(predicted.probability_late, delay[test] > 0)), estimators


def payment_model_evaluate(*, organization: Organization, split_date: dt.date) -> Evaluation:
    """Train on invoices settled before the split and measure the model and the baseline on the
    invoices issued on or after it (nothing stored)."""
    ledger = ledger_load(organization)
    matrix, baseline = pm.features_build(ledger)
    return _evaluate(ledger, matrix, baseline, split_date)[0]


def _holdout_split(ledger: pm.Ledger) -> dt.date:
    settled = ~np.isnan(ledger.settled_day)
    return dt.date.fromordinal(int(np.quantile(ledger.issue_day[settled], 1 - HOLDOUT_SHARE)))


@transaction.atomic
def payment_model_train(*, organization: Organization, actor: Actor = None) -> PaymentModel:
    """Train a new version on the settled invoices, a sample of training_rows_max() when there are more
    (after measuring the same recipe on the most recent fifth held out), or store the baseline when the
    history is too short."""
    ledger = ledger_load(organization)
    all_settled = ~np.isnan(ledger.settled_day)
    settled = _sample(all_settled, training_rows_max())
    needed = forecast_settings(organization).min_history
    version = (PaymentModel.objects.filter(organization=organization).aggregate(v=Max("version"))["v"] or 0) + 1
    stored = PaymentModel(organization=organization, version=version, trained_at=timezone.now(),
                          features=list(pm.FEATURES), train_count=int(settled.sum()))
    if settled.any():
        stored.train_from = dt.date.fromordinal(int(np.min(ledger.settled_day[settled])))
        stored.train_to = dt.date.fromordinal(int(np.max(ledger.settled_day[settled])))
    if all_settled.sum() < needed:
        stored.method = ModelMethod.BASELINE
        stored.note = _("Too little history: %(count)s settled invoices, %(needed)s needed; predictions use the "
                        "baseline.") % {"count": int(all_settled.sum()), "needed": needed}
    else:
        import sklearn

        matrix, baseline = pm.features_build(ledger)
        evaluation, _fitted = _evaluate(ledger, matrix, baseline, _holdout_split(ledger))
        estimators = pm.estimators_fit(matrix[settled], ledger.delay[settled])
        stored.method = ModelMethod.MODEL
        stored.metrics = evaluation.as_dict()
        stored.artifact = estimators.dumps()
        stored.library_version = f"scikit-learn {sklearn.__version__}"
    stored.save()
    audit_record(organization=organization, actor=actor, action="payment_model.train", obj=stored, after={
        "version": version, "method": stored.method, "train_count": stored.train_count, "metrics": stored.metrics,
        "note": stored.note})
    return stored


def _clip_to(p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, today: int):
    """An invoice still open past its predicted days is expected from today on: when even its P90 has
    passed, the three keep their spread from today; else each passed one becomes today."""
    all_passed = p90 < today
    shift = np.where(all_passed, today - p10, 0)
    p10, p50, p90 = p10 + shift, p50 + shift, p90 + shift
    return np.maximum(p10, today), np.maximum(p50, today), np.maximum(p90, today)


def _iso_dates(ordinals: np.ndarray) -> np.ndarray:
    """Date ordinals as ISO text, all at once (1970-01-01 is ordinal 719,163)."""
    return (np.asarray(ordinals, dtype=np.int64) - 719_163).astype("datetime64[D]").astype(str)


def _predictions_replace(organization: Organization, values: dict[str, Any], count: int) -> None:
    """Replace the organization's stored predictions on PostgreSQL: the new ones are COPYed into a
    temporary table, then the stored rows of invoices no longer open are deleted, the others updated in
    place and the new invoices' rows inserted. Deleting and inserting every row made PostgreSQL check
    each row's foreign keys again (as long as storing the rows, at 133,694 predictions); an update
    that keeps the invoice and the model checks none. The shared table is not analyzed here: ANALYZE
    holds a lock until commit that every other organization's refresh would wait for (autovacuum
    keeps its statistics)."""
    table = connection.ops.quote_name(InvoicePrediction._meta.db_table)
    names = list(values)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.prediction_new")
        shape = f"SELECT {', '.join(names)} FROM {table}"  # noqa: S608 - column and table names from the model
        cursor.execute(f"CREATE TEMP TABLE prediction_new ON COMMIT DROP AS {shape} WITH NO DATA")
        columns_copy("prediction_new", values, count=count)
        cursor.execute("ANALYZE prediction_new")
        params = {"org": organization.pk}
        # Table and column names from the model; the organization is a bound parameter.
        cursor.execute(f"""DELETE FROM {table} p WHERE p.organization_id = %(org)s
                           AND NOT EXISTS (SELECT 1 FROM prediction_new n WHERE n.invoice_id = p.invoice_id)""",  # noqa: S608
                       params)
        cursor.execute(f"""UPDATE {table} p SET {', '.join(f'{name} = n.{name}' for name in names if name != 'invoice_id')}
                           FROM prediction_new n WHERE p.organization_id = %(org)s AND p.invoice_id = n.invoice_id""",  # noqa: S608
                       params)
        cursor.execute(f"""INSERT INTO {table} (organization_id, {', '.join(names)})
                           SELECT %(org)s, {', '.join(f'n.{name}' for name in names)} FROM prediction_new n
                           WHERE NOT EXISTS (SELECT 1 FROM {table} p
                                             WHERE p.organization_id = %(org)s AND p.invoice_id = n.invoice_id)""",  # noqa: S608
                       params)


@transaction.atomic
def predictions_refresh(*, organization: Organization, as_of: dt.date, actor: Actor = None) -> int:
    """Predict every open invoice with the current model (the baseline when there is none or it is the
    baseline) and replace the stored predictions. Returns how many were stored."""
    stored = payment_model_current(organization)
    ledger = ledger_load(organization)
    open_rows = np.flatnonzero(ledger.is_open)
    features, baseline = pm.features_build(ledger, open_rows)  # the open invoices' rows only
    due = ledger.due_day[open_rows].astype(float)
    base_delay = np.nan_to_num(baseline)
    if stored is not None and stored.method == ModelMethod.MODEL:
        estimators = pm.Estimators.loads(bytes(stored.artifact))
        predicted = pm.estimators_predict(estimators, features)
        delays = (predicted.p10, predicted.p50, predicted.p90)
        probability = predicted.probability_late
        reasons = pm.reasons_compute(estimators, features, median=predicted.median_raw)
        method = ModelMethod.MODEL
    else:
        spread = np.nan_to_num(features[:, pm.FEATURES.index("history_spread")]) * 1.2816
        delays = (base_delay - spread, base_delay, base_delay + spread)
        share = features[:, pm.FEATURES.index("history_share_late")]
        overall = float(np.mean(ledger.delay[~np.isnan(ledger.delay)] > 0)) if (~np.isnan(ledger.delay)).any() else 0.0
        probability = np.where(np.isnan(share), overall, share)
        reasons = [f'[{{"feature": "baseline", "days": {days}, "value": null}}]'
                   for days in np.round(base_delay, 1).astype(str)]
        method = ModelMethod.BASELINE
    today = as_of.toordinal()
    p10, p50, p90 = _clip_to(*(np.rint(due + d) for d in delays), today)
    baseline_day = np.maximum(np.rint(due + base_delay), today)
    values = {
        "invoice_id": ledger.invoice_id[open_rows], "payment_model_id": stored.pk if stored else None,
        "method": method, "p10_date": _iso_dates(p10), "expected_date": _iso_dates(p50), "p90_date": _iso_dates(p90),
        "baseline_date": _iso_dates(baseline_day),
        "probability_late": np.char.mod("%.4f", np.clip(np.round(probability, 4), 0, 1)),
        "reasons": reasons, "predicted_at": timezone.now().isoformat(),
    }
    if connection.vendor == "postgresql":
        _predictions_replace(organization, values, len(open_rows))
    else:
        InvoicePrediction.objects.filter(organization=organization).delete()
        columns_insert(InvoicePrediction, {"organization_id": organization.pk, **values}, count=len(open_rows))
    audit_record(organization=organization, actor=actor, action="invoice_predictions.refresh", obj=organization,
                 after={"as_of": as_of.isoformat(), "count": len(open_rows), "model_version": stored.version if stored else None,
                        "method": method})
    return len(open_rows)


# --- dispute flags from imports ------------------------------------------------------------------

def invoice_dispute_flags_store(organization: Organization, values: dict[int, str]) -> None:
    """The importer's `disputed` column: yes/no per invoice id (registered in apps.ready)."""
    existing = dict(InvoiceDisputeFlag.objects.filter(organization=organization, invoice_id__in=list(values))
                    .values_list("invoice_id", "pk"))
    new = [InvoiceDisputeFlag(organization=organization, invoice_id=pk, disputed=value == "yes")
           for pk, value in values.items() if pk not in existing]
    InvoiceDisputeFlag.objects.bulk_create(new, batch_size=2000)
    for wanted in (True, False):
        changed = [existing[pk] for pk, value in values.items() if pk in existing and (value == "yes") == wanted]
        if changed:
            InvoiceDisputeFlag.objects.filter(pk__in=changed).exclude(disputed=wanted).update(
                disputed=wanted, updated_at=timezone.now())


# --- settings, overlays, individual assessments ---------------------------------------------------

SETTINGS_FIELDS = ("week_start", "disputed_mode", "dispute_haircut_percent", "min_history", "individual_default_rate",
                   "include_new_sales", "history_from", "history_to")


@transaction.atomic
def forecast_settings_update(*, organization: Organization, actor: Actor, **changes: Any) -> ForecastSettings:
    """Change the organization's forecasting settings (admins)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise DomainError(_("Unknown setting: %(name)s.") % {"name": ", ".join(sorted(unknown))})
    current, _created = ForecastSettings.objects.select_for_update().get_or_create(organization=organization)
    before = {name: getattr(current, name) for name in SETTINGS_FIELDS}
    if "disputed_mode" in changes and changes["disputed_mode"] not in DisputedMode.values:
        raise DomainError(_("Disputed amounts are either excluded or haircut."), field="disputed_mode")
    for name, value in changes.items():
        setattr(current, name, value)
    if (current.history_from is None) != (current.history_to is None):
        raise DomainError(_("Give both ends of the history window, or neither."), field="history_to")
    if current.history_from and current.history_from > current.history_to:
        raise DomainError(_("The history window ends before it starts."), field="history_to")
    model_check(current)
    current.save()
    audit_record(organization=organization, actor=actor, action="forecast_settings.update", obj=current,
                 before={k: str(v) for k, v in before.items()},
                 after={name: str(getattr(current, name)) for name in SETTINGS_FIELDS})
    return current


@transaction.atomic
def loss_rates_calibrate(*, organization: Organization, as_of: dt.date, history_from: dt.date | None = None,
                         history_to: dt.date | None = None, segment: str | None = None,
                         actor: Actor = None) -> LossRateCalibration:
    """Compute the cohort loss rates for the window (default: the organization's chosen window, else
    the twelve months matured by as_of) and store them as the calibration of as_of (a second run the
    same day replaces the first)."""
    from .provisions import cohort_loss_rates, organization_history

    if history_from is None or history_to is None:
        history_from, history_to = organization_history(organization, as_of)
    if history_from > history_to:
        raise DomainError(_("The history window ends before it starts."), field="history_to")
    # Unrounded: the provision divides loss by base, and rounds only its result (once, at the edge).
    rates = [{"key": rate.key, "base": str(rate.base), "loss": str(rate.loss)}
             for rate in cohort_loss_rates(organization, history_from=history_from, history_to=history_to,
                                           as_of=as_of, segment=segment)]
    stored, _created = LossRateCalibration.objects.update_or_create(
        organization=organization, segment=segment or "", calibrated_on=as_of,
        defaults={"history_from": history_from, "history_to": history_to, "rates": rates,
                  "created_at": timezone.now()})
    audit_record(organization=organization, actor=actor, action="loss_rates.calibrate", obj=stored, after={
        "calibrated_on": as_of.isoformat(), "history_from": history_from.isoformat(),
        "history_to": history_to.isoformat(), "segment": segment or "", "rates": rates})
    return stored


@transaction.atomic
def provision_overlay_set(*, organization: Organization, actor: Actor, bucket_key: str, multiplier: Decimal,
                          reason: str, effective_from: dt.date) -> ProvisionOverlay:
    """A forward-looking multiplier on one bucket's loss rate from a date on (credit managers)."""
    from .provisions import bucket_keys

    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    if bucket_key not in bucket_keys(organization):
        raise DomainError(_("Unknown aging bucket %(key)s.") % {"key": bucket_key}, field="bucket_key")
    if not (reason or "").strip():
        raise DomainError(_("Say why the loss rate is adjusted."), field="reason")
    overlay = ProvisionOverlay(organization=organization, bucket_key=bucket_key, multiplier=multiplier,
                               reason=reason.strip(), effective_from=effective_from, created_by=actor)
    model_check(overlay)
    overlay.save()
    audit_record(organization=organization, actor=actor, action="provision_overlay.set", obj=overlay, after={
        "bucket_key": bucket_key, "multiplier": str(multiplier), "reason": overlay.reason,
        "effective_from": effective_from.isoformat()})
    return overlay


@transaction.atomic
def individual_assessment_set(*, organization: Organization, actor: Actor, customer: Customer,
                              loss_rate: Decimal | None, reason: str, assessed_on: dt.date) -> IndividualAssessment:
    """Provide for a customer at its own loss rate from a date on (None: back to the matrix)."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, customer)
    if not (reason or "").strip():
        raise DomainError(_("Say why the customer is assessed individually."), field="reason")
    assessment = IndividualAssessment(organization=organization, customer=customer, loss_rate=loss_rate,
                                      reason=reason.strip(), assessed_on=assessed_on, created_by=actor)
    model_check(assessment)
    assessment.save()
    audit_record(organization=organization, actor=actor, action="individual_assessment.set", obj=assessment, after={
        "customer": customer.pk, "loss_rate": None if loss_rate is None else str(loss_rate),
        "reason": assessment.reason, "assessed_on": assessed_on.isoformat()})
    return assessment
