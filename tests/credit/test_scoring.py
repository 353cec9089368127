"""Pure scoring pieces: USCC check character, Altman Z / Z'', the scorecard."""

from decimal import Decimal

import pytest

from credit.altman import ZModel, Zone, altman_z, altman_z_double_prime, z_model_for
from credit.scoring import DEFAULT_WEIGHTS, bands_problem, scorecard, weights_problem
from credit.uscc import uscc_check_character, uscc_problem

# Unified social credit codes as printed on the business licences / annual reports of
# well-known companies (national enterprise credit information publicity system).
REAL_CODES = {
    "91440300708461136T": "深圳市腾讯计算机系统有限公司",
    "914403001922038216": "华为技术有限公司",
    "91520000214434146R": "贵州茅台酒股份有限公司",
    "91330100799655058B": "阿里巴巴(中国)有限公司",
    "91110000802100433B": "北京百度网讯科技有限公司",
}


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_real_published_codes_are_valid(code):
    assert uscc_problem(code) is None
    assert uscc_check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code", sorted(REAL_CODES))
def test_any_single_mistyped_character_is_caught(code):
    # Changing any one of the first 17 characters to another valid one changes the check character.
    for position in range(17):
        replacement = "1" if code[position] != "1" else "2"
        corrupted = code[:position] + replacement + code[position + 1:]
        assert uscc_problem(corrupted) is not None, corrupted


def test_transposed_digits_and_bad_lengths_are_reported_clearly():
    assert uscc_problem("91440300708461163T") == "check character is T, expected L: a character is mistyped"
    assert uscc_problem("9144030070846113") == "must be 18 characters, got 16"
    assert uscc_problem("91440300708461136I") == "contains characters not used in these codes: I"
    assert uscc_problem(" 91440300708461136t ") is None  # normalized: spaces trimmed, upper-cased


def test_altman_z_textbook_ratio_example():
    """Textbook exercise (e.g. Brigham/Ehrhardt-style problem reproduced at wizedu.com, question 366502):
    WC/TA 0.34, RE/TA 0.15, EBIT/TA 0.00, MVE/TL 0.80, Sales/TA 1.6 gives Z = 2.70 (grey zone).
    Coefficients 1.2, 1.4, 3.3, 0.6, 1.0 and cut-offs 1.81 / 2.99 from Altman (1968), J. Finance 23(4)."""
    z = altman_z(working_capital=Decimal("34"), retained_earnings=Decimal("15"), ebit=Decimal("0"),
                 market_value_equity=Decimal("80"), sales=Decimal("160"), total_assets=Decimal("100"),
                 total_liabilities=Decimal("100"))
    assert z.value == Decimal("2.6980")
    assert z.zone == Zone.GREY


def test_altman_z_worked_example_from_amounts():
    """Worked problem (brainmass.com 521231): WC 90,000; TA 620,000; RE 30,000; EBIT 55,000;
    MVE 100,000; total debt 280,000; sales 440,000 -> Z = 1.46, the distress zone (< 1.81)."""
    z = altman_z(working_capital=Decimal(90_000), retained_earnings=Decimal(30_000), ebit=Decimal(55_000),
                 market_value_equity=Decimal(100_000), sales=Decimal(440_000), total_assets=Decimal(620_000),
                 total_liabilities=Decimal(280_000))
    assert z.value.quantize(Decimal("0.01")) == Decimal("1.46")
    assert z.zone == Zone.DISTRESS


def test_altman_z_double_prime_coefficients_and_zones():
    """Z'' = 6.56 X1 + 3.26 X2 + 6.72 X3 + 1.05 X4 with zones < 1.10 distress, > 2.60 safe:
    Altman (2000), "Predicting financial distress of companies: revisiting the Z-score and ZETA models",
    and Altman, Hartzell & Peck (1995). Hand-worked: X = (0.2, 0.3, 0.1, 400/600) -> 3.662."""
    z = altman_z_double_prime(working_capital=Decimal(200), retained_earnings=Decimal(300), ebit=Decimal(100),
                              book_value_equity=Decimal(400), total_assets=Decimal(1000),
                              total_liabilities=Decimal(600))
    assert z.value == Decimal("3.6620")
    assert z.zone == Zone.SAFE
    weak = altman_z_double_prime(working_capital=Decimal(-50), retained_earnings=Decimal(-100), ebit=Decimal(10),
                                 book_value_equity=Decimal(100), total_assets=Decimal(1000),
                                 total_liabilities=Decimal(900))
    # -0.328 - 0.326 + 0.0672 + 0.11667 = -0.4701
    assert weak.value == Decimal("-0.4701")
    assert weak.zone == Zone.DISTRESS


def test_z_model_choice():
    assert z_model_for(is_public=True, is_manufacturer=True) == ZModel.Z
    assert z_model_for(is_public=False, is_manufacturer=True) == ZModel.Z_PRIME  # issue 12: Z', not Z''
    assert z_model_for(is_public=True, is_manufacturer=False) == ZModel.Z_DOUBLE_PRIME


FULL_INPUTS = {
    "as_of": "2026-03-31",
    "payment": {"invoices": 12, "avg_days_late": "6.00", "on_time_share": "0.7500", "worst_delay": 30,
                "trend": "-2.00"},
    "financials": {"year": 2025, "model": "z2", "revenue": "250000000", "ebit": "100", "working_capital": "200",
                   "retained_earnings": "300", "total_assets": "1000", "total_liabilities": "600", "equity": "400",
                   "market_value_equity": None},
    "exposure": "400000", "limit": "1000000", "founding_year": 2006, "signals": [],
}


def test_scorecard_is_deterministic_and_explained():
    first = scorecard(FULL_INPUTS)
    assert first == scorecard(dict(FULL_INPUTS))
    points = {f.key: f.points for f in first.factors}
    assert points == {
        "payment_days_late": Decimal("13.5"),  # 6 days late of 60 -> 90% of 15
        "payment_on_time": Decimal("7.5"),
        "payment_worst_delay": Decimal("3.8"),  # 30 of 120 days -> 75% of 5
        "payment_trend": Decimal("4.3"),  # -2 on the -5..+15 line -> 85% of 5
        "financial_strength": Decimal("22.0"),  # Z'' 3.662 safe: (0.8 + 0.2 * 1.062 / 2.6) of 25
        "exposure": Decimal("15.0"),  # 40% used
        "company_age": Decimal("7.0"),  # 20 years
        "company_size": Decimal("6.4"),  # revenue 250 M: log10(250) / 3
        "external_signals": Decimal("10.0"),
    }
    assert first.score == Decimal("89.5") and first.grade == "A" and not first.provisional
    assert first.low == first.high == first.score


def test_thin_file_is_provisional_with_a_range():
    card = scorecard({"as_of": "2026-03-31", "payment": None, "financials": None, "exposure": "0", "limit": None,
                      "founding_year": None, "signals": []})
    assert card.provisional
    assert card.low == Decimal("10.0")  # only "no negative signals" is known
    assert card.high == Decimal("100.0")
    assert [f.key for f in card.factors if f.missing] == [k for k in DEFAULT_WEIGHTS if k != "external_signals"]


def test_signals_and_custom_weights_and_bands():
    inputs = {**FULL_INPUTS, "signals": [{"kind": "litigation", "severity": "high", "observed_on": "2026-02-01"}]}
    assert {f.key: f.points for f in scorecard(inputs).factors}["external_signals"] == Decimal("5.0")
    weights = {**DEFAULT_WEIGHTS, "financial_strength": 0, "payment_days_late": 40}
    card = scorecard(inputs, weights=weights, bands={"A": 95, "B": 90, "C": 85, "D": 80})
    assert card.grade == "C"


def test_weight_and_band_validation_messages():
    assert weights_problem({**DEFAULT_WEIGHTS, "exposure": 20}) == "weights must add up to 100, they add up to 105"
    assert bands_problem({"A": 50, "B": 65, "C": 40, "D": 30}) == "bands must fall strictly from A to D"
