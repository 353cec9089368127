"""Altman's Z-score models, with the published coefficients and zone cut-offs.

- Z (Altman 1968, public manufacturers): 1.2 X1 + 1.4 X2 + 3.3 X3 + 0.6 X4 + 1.0 X5, with
  X4 = market value of equity / total liabilities; distress below 1.81, safe above 2.99.
- Z' (Altman 1983 / 2000, private manufacturers): 0.717 X1 + 0.847 X2 + 3.107 X3 + 0.420 X4
  + 0.998 X5, with X4 = book value of equity / total liabilities; distress below 1.23, safe above 2.90.
- Z'' (Altman 1995 / 2000, non-manufacturing firms and emerging markets): 6.56 X1 + 3.26 X2 + 6.72 X3
  + 1.05 X4, with X4 = book value of equity / total liabilities and no sales term (asset
  turnover varies too much by industry); distress below 1.10, safe above 2.60.

X1 = working capital / total assets, X2 = retained earnings / total assets,
X3 = EBIT / total assets, X5 = sales / total assets. Decimal arithmetic throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

FOUR_PLACES = Decimal("0.0001")


class ZModel(StrEnum):
    Z = "z"  # public manufacturer
    Z_PRIME = "z1"  # private manufacturer (one prime)
    Z_DOUBLE_PRIME = "z2"  # non-manufacturer, or any firm in an emerging market (two primes)


class Zone(StrEnum):
    SAFE = "safe"
    GREY = "grey"
    DISTRESS = "distress"


COEFFICIENTS = {
    ZModel.Z: (Decimal("1.2"), Decimal("1.4"), Decimal("3.3"), Decimal("0.6"), Decimal("1.0")),
    ZModel.Z_PRIME: (Decimal("0.717"), Decimal("0.847"), Decimal("3.107"), Decimal("0.420"), Decimal("0.998")),
    ZModel.Z_DOUBLE_PRIME: (Decimal("6.56"), Decimal("3.26"), Decimal("6.72"), Decimal("1.05")),
}
# (distress below, safe above)
CUTOFFS = {
    ZModel.Z: (Decimal("1.81"), Decimal("2.99")),
    ZModel.Z_PRIME: (Decimal("1.23"), Decimal("2.90")),
    ZModel.Z_DOUBLE_PRIME: (Decimal("1.10"), Decimal("2.60")),
}


@dataclass(frozen=True)
class ZScore:
    model: ZModel
    ratios: tuple[Decimal, ...]
    value: Decimal  # rounded to 4 places
    zone: Zone


# MSCI Emerging Markets constituents (ISO 3166 codes): Altman's Z'' is the model for firms there,
# whatever their industry (Altman, "An emerging market credit scoring system", 2005).
EMERGING_MARKETS = frozenset({
    "AE", "BR", "CL", "CN", "CO", "CZ", "EG", "GR", "HU", "ID", "IN", "KR", "KW", "MX", "MY", "PE", "PH", "PL",
    "QA", "SA", "TH", "TR", "TW", "ZA",
})


def z_model_for(*, is_public: bool, is_manufacturer: bool, country: str = "") -> ZModel:
    """Public manufacturer Z, private manufacturer Z', non-manufacturer or emerging market Z''."""
    if not is_manufacturer or (country or "").upper() in EMERGING_MARKETS:
        return ZModel.Z_DOUBLE_PRIME
    return ZModel.Z if is_public else ZModel.Z_PRIME


def zone_of(model: ZModel, value: Decimal) -> Zone:
    distress, safe = CUTOFFS[model]
    if value < distress:
        return Zone.DISTRESS
    if value > safe:
        return Zone.SAFE
    return Zone.GREY


def altman_z(*, working_capital: Decimal, retained_earnings: Decimal, ebit: Decimal, market_value_equity: Decimal,
             sales: Decimal, total_assets: Decimal, total_liabilities: Decimal) -> ZScore:
    """The original Z-score of a public manufacturer."""
    _positive(total_assets=total_assets, total_liabilities=total_liabilities)
    ratios = (working_capital / total_assets, retained_earnings / total_assets, ebit / total_assets,
              market_value_equity / total_liabilities, sales / total_assets)
    return _score(ZModel.Z, ratios)


def altman_z_prime(*, working_capital: Decimal, retained_earnings: Decimal, ebit: Decimal, book_value_equity: Decimal,
                   sales: Decimal, total_assets: Decimal, total_liabilities: Decimal) -> ZScore:
    """Z' of a private manufacturer: Z re-estimated with the book value of equity."""
    _positive(total_assets=total_assets, total_liabilities=total_liabilities)
    ratios = (working_capital / total_assets, retained_earnings / total_assets, ebit / total_assets,
              book_value_equity / total_liabilities, sales / total_assets)
    return _score(ZModel.Z_PRIME, ratios)


def altman_z_double_prime(*, working_capital: Decimal, retained_earnings: Decimal, ebit: Decimal,
                          book_value_equity: Decimal, total_assets: Decimal, total_liabilities: Decimal) -> ZScore:
    """Z'' of a private or non-manufacturing firm."""
    _positive(total_assets=total_assets, total_liabilities=total_liabilities)
    ratios = (working_capital / total_assets, retained_earnings / total_assets, ebit / total_assets,
              book_value_equity / total_liabilities)
    return _score(ZModel.Z_DOUBLE_PRIME, ratios)


def _positive(**values: Decimal) -> None:
    for name, value in values.items():
        if value <= 0:
            raise ValueError(f"{name} must be more than zero for a Z-score")


def _score(model: ZModel, ratios: tuple[Decimal, ...]) -> ZScore:
    value = sum((c * r for c, r in zip(COEFFICIENTS[model], ratios, strict=True)), Decimal(0))
    value = value.quantize(FOUR_PLACES)
    return ZScore(model, tuple(r.quantize(FOUR_PLACES) for r in ratios), value, zone_of(model, value))
