"""sql_decimal: amounts and sums from raw SQL as exact Decimals (SQLite returns binary floats)."""

from decimal import Decimal

import pytest

from tenancy.money import quantize, sql_decimal


def test_a_decimal_from_postgresql_is_returned_unchanged():
    value = Decimal("130.4000")
    assert sql_decimal(value) is value


def test_integers_and_text_are_exact():
    assert sql_decimal(120) == Decimal(120)
    assert sql_decimal("1.0050") == Decimal("1.0050")


@pytest.mark.parametrize(("floats", "exact"), [
    ([1.005, 1.005, 1.005], Decimal("3.0150")),  # SQLite's SUM: 3.0149999999999997
    ([0.1, 0.2], Decimal("0.3000")),  # 0.30000000000000004
    ([130.1, 0.3], Decimal("130.4000")),  # 130.40000000000000568...
    ([98765432.1011, 1.0001], Decimal("98765433.1012")),  # 98765433.10119999945...
])
def test_a_float_sum_of_stored_amounts_is_rounded_to_the_stored_places(floats, exact):
    total = sum(floats)
    assert Decimal(total) != exact  # what Decimal() alone gives

    assert sql_decimal(total) == exact
    assert sql_decimal(total).as_tuple().exponent == -4


def test_rounding_to_cents_then_rounds_half_up_from_the_exact_amount():
    total = 1.005 + 1.005 + 1.005
    assert quantize(Decimal(total), "CNY") == Decimal("3.01")  # the float's binary value is just below
    assert quantize(sql_decimal(total), "CNY") == Decimal("3.02")


def test_anything_else_is_refused():
    for value in (None, True, [1]):
        with pytest.raises(TypeError, match="not an SQL amount"):
            sql_decimal(value)
