"""The explainable credit scorecard: stored inputs in, 0-100 score, grade and factors out.

Pure and deterministic: `scorecard(inputs, weights, bands)` uses nothing but its arguments
(no clock, no database), so a stored score is reproduced exactly from its stored inputs.
Each factor maps its value to a fraction of its weight; the weights are the factors' maximum
points and add up to 100. A factor without data scores half its weight and is marked missing;
when the missing weight passes `provisional_missing_weight` the score is provisional, shown as
the range of scores the missing data could give, never as a precise number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .altman import CUTOFFS, ZModel, altman_z, altman_z_double_prime, altman_z_prime

MODEL_VERSION = "2026.2"  # 2026.2: Z', zero liabilities, stale statements, size in a reference currency
ONE_PLACE = Decimal("0.1")
GRADES = ("A", "B", "C", "D", "E")

DEFAULT_WEIGHTS: dict[str, int] = {
    "payment_days_late": 15,
    "payment_on_time": 10,
    "payment_worst_delay": 5,
    "payment_trend": 5,
    "financial_strength": 25,
    "exposure": 15,
    "company_age": 7,
    "company_size": 8,
    "external_signals": 10,
}
# Lowest score of each grade; below the last band is E.
DEFAULT_BANDS: dict[str, int] = {"A": 80, "B": 65, "C": 50, "D": 35}
DEFAULT_PROVISIONAL_MISSING_WEIGHT = 40
SIGNAL_PENALTY = {"high": Decimal("0.5"), "medium": Decimal("0.25"), "low": Decimal("0.1")}


def weights_problem(weights: dict[str, Any]) -> str | None:
    if set(weights) != set(DEFAULT_WEIGHTS):
        return f"weights must name exactly these factors: {', '.join(DEFAULT_WEIGHTS)}"
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in weights.values()):
        return "each weight must be a whole number of points, zero or more"
    if sum(weights.values()) != 100:
        return f"weights must add up to 100, they add up to {sum(weights.values())}"
    return None


def bands_problem(bands: dict[str, Any]) -> str | None:
    if set(bands) != set(GRADES[:-1]):
        return "bands must give the lowest score of grades A, B, C and D"
    values = [bands[g] for g in GRADES[:-1]]
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 100 for v in values):
        return "each band must be a whole number from 1 to 100"
    if values != sorted(values, reverse=True) or len(set(values)) != len(values):
        return "bands must fall strictly from A to D"
    return None


@dataclass(frozen=True)
class Factor:
    key: str
    value: str  # what was measured, for display ("12.5 days", "Z'' 3.66 (safe)", "no data")
    points: Decimal
    max_points: int
    missing: bool


@dataclass(frozen=True)
class Scorecard:
    score: Decimal  # 0-100, one decimal
    grade: str
    provisional: bool
    low: Decimal  # the range the missing factors allow (low == high when nothing is missing)
    high: Decimal
    factors: tuple[Factor, ...]

    def factors_json(self) -> list[dict[str, Any]]:
        # By hand, not dataclasses.asdict: its deep copy was a third of a 20,000-customer re-scoring.
        return [{"key": f.key, "value": f.value, "points": str(f.points), "max_points": f.max_points,
                 "missing": f.missing} for f in self.factors]


def _clamp(value: Decimal) -> Decimal:
    return min(max(value, Decimal(0)), Decimal(1))


def _linear(value: Decimal, best: Decimal, worst: Decimal) -> Decimal:
    """1 at `best`, 0 at `worst`, straight line between (either direction)."""
    return _clamp((value - worst) / (best - worst))


def _d(raw: Any) -> Decimal | None:
    return None if raw is None else Decimal(str(raw))


# --- the factors: each returns (fraction 0..1, display value), or None when there is no data ---

def _payment(inputs: dict[str, Any], key: str) -> tuple[Decimal, str] | None:
    payment = inputs.get("payment")
    if not payment:
        return None
    if key == "payment_days_late":
        days = _d(payment["avg_days_late"])
        return _linear(days, Decimal(0), Decimal(60)), f"{days.quantize(ONE_PLACE, ROUND_HALF_UP)} d"
    if key == "payment_on_time":
        share = _d(payment["on_time_share"])
        return _clamp(share), f"{(share * 100).quantize(ONE_PLACE, ROUND_HALF_UP)}%"
    if key == "payment_worst_delay":
        worst = Decimal(payment["worst_delay"])
        return _linear(worst, Decimal(0), Decimal(120)), f"{worst} d"
    trend = _d(payment.get("trend"))
    if trend is None:
        return None
    # Days late, last 6 months minus the 6 before: getting 5 days faster is full marks.
    return _linear(trend, Decimal(-5), Decimal(15)), f"{'+' if trend > 0 else ''}{trend.quantize(ONE_PLACE, ROUND_HALF_UP)} d"


def _financial_strength(inputs: dict[str, Any]) -> tuple[Decimal, str] | None:
    fin = inputs.get("financials")
    if not fin or _d(fin.get("total_assets")) in (None, Decimal(0)) or _d(fin.get("total_liabilities")) is None:
        return None
    if _d(fin["total_liabilities"]) == 0:
        # No debt at all: nothing a creditor could lose to, the best financial strength there is.
        return Decimal(1), f"no liabilities ({fin['year']})"
    common = {
        "working_capital": _d(fin["working_capital"]), "retained_earnings": _d(fin["retained_earnings"]),
        "ebit": _d(fin["ebit"]), "total_assets": _d(fin["total_assets"]),
        "total_liabilities": _d(fin["total_liabilities"]),
    }
    if fin["model"] == ZModel.Z:
        z = altman_z(**common, market_value_equity=_d(fin["market_value_equity"]), sales=_d(fin["revenue"]))
        label = "Z"
    elif fin["model"] == ZModel.Z_PRIME:
        z = altman_z_prime(**common, book_value_equity=_d(fin["equity"]), sales=_d(fin["revenue"]))
        label = "Z'"
    else:
        z = altman_z_double_prime(**common, book_value_equity=_d(fin["equity"]))
        label = "Z''"

    distress, safe = CUTOFFS[z.model]
    # Distress zone 0-0.3, grey zone 0.3-0.8, safe zone 0.8-1 (full marks at twice the safe cut-off).
    if z.value < distress:
        fraction = Decimal("0.3") * _clamp(z.value / distress)
    elif z.value <= safe:
        fraction = Decimal("0.3") + Decimal("0.5") * (z.value - distress) / (safe - distress)
    else:
        fraction = Decimal("0.8") + Decimal("0.2") * _clamp((z.value - safe) / safe)
    return fraction, f"{label} {z.value.quantize(Decimal('0.01'))} ({z.zone}, {fin['year']})"


def _exposure(inputs: dict[str, Any]) -> tuple[Decimal, str] | None:
    limit = _d(inputs.get("limit"))
    if not limit:
        return None
    exposure = _d(inputs.get("exposure")) or Decimal(0)
    used = exposure / limit
    return _linear(used, Decimal("0.5"), Decimal("1.2")), f"{(used * 100).quantize(ONE_PLACE, ROUND_HALF_UP)}%"


def _company_age(inputs: dict[str, Any]) -> tuple[Decimal, str] | None:
    founded = inputs.get("founding_year")
    if not founded:
        return None
    years = max(dt.date.fromisoformat(inputs["as_of"]).year - int(founded), 0)
    return _linear(Decimal(years), Decimal(20), Decimal(0)), f"{years} y"


def _company_size(inputs: dict[str, Any]) -> tuple[Decimal, str] | None:
    fin = inputs.get("financials")
    if not fin or fin.get("revenue") is None:
        return None
    if "reference_currency" in fin:
        # Revenue in the reference currency (converted when scored): the scale means the same size
        # for an organization keeping its books in JPY as for one in CNY. None: no rate to convert.
        revenue, unit = _d(fin["revenue_reference"]), f" M {fin['reference_currency']}"
        if revenue is None:
            return None
    else:  # scores stored before the reference currency: base-currency units, reproduced as they were
        revenue, unit = _d(fin["revenue"]), " M"
    # Revenue on a log scale: 1 million or less scores 0, 1 billion or more full.
    fraction = Decimal(0) if revenue <= 0 else _clamp((revenue / Decimal(1_000_000)).log10() / 3)
    return fraction, f"{(revenue / Decimal(1_000_000)).quantize(ONE_PLACE, ROUND_HALF_UP)}{unit}"


def _signals(inputs: dict[str, Any]) -> tuple[Decimal, str] | None:
    signals = inputs.get("signals") or []
    penalty = sum((SIGNAL_PENALTY.get(s["severity"], Decimal(0)) for s in signals), Decimal(0))
    return _clamp(1 - penalty), str(len(signals))


FACTORS = {
    "payment_days_late": lambda i: _payment(i, "payment_days_late"),
    "payment_on_time": lambda i: _payment(i, "payment_on_time"),
    "payment_worst_delay": lambda i: _payment(i, "payment_worst_delay"),
    "payment_trend": lambda i: _payment(i, "payment_trend"),
    "financial_strength": _financial_strength,
    "exposure": _exposure,
    "company_age": _company_age,
    "company_size": _company_size,
    "external_signals": _signals,
}


def grade_for(score: Decimal, bands: dict[str, int]) -> str:
    for grade in GRADES[:-1]:
        if score >= bands[grade]:
            return grade
    return GRADES[-1]


def scorecard(inputs: dict[str, Any], *, weights: dict[str, int] | None = None, bands: dict[str, int] | None = None,
              provisional_missing_weight: int = DEFAULT_PROVISIONAL_MISSING_WEIGHT) -> Scorecard:
    """Score one customer from its inputs (the JSON stored with every CreditScore)."""
    weights = weights or DEFAULT_WEIGHTS
    bands = bands or DEFAULT_BANDS
    factors = []
    known = Decimal(0)
    missing_weight = 0
    for key, measure in FACTORS.items():
        weight = weights[key]
        result = measure(inputs)
        if result is None:
            missing_weight += weight
            why = (inputs.get("missing") or {}).get(key, "no data")  # e.g. "statement 2023 older than 18 months"
            factors.append(Factor(key, why, (Decimal(weight) / 2).quantize(ONE_PLACE, ROUND_HALF_UP), weight, True))
            continue
        fraction, shown = result
        points = (fraction * weight).quantize(ONE_PLACE, ROUND_HALF_UP)
        known += points
        factors.append(Factor(key, shown, points, weight, False))
    score = sum((f.points for f in factors), Decimal(0))
    return Scorecard(
        score=score, grade=grade_for(score, bands), provisional=missing_weight > provisional_missing_weight,
        low=known, high=known + missing_weight, factors=tuple(factors),
    )
