"""ISO 4217 data comes from Babel (CLDR), not from a hand-kept table (issue 14 item 9)."""

from decimal import Decimal

import pytest
from django.utils import translation

from tenancy.errors import DomainError, ErrorCode
from tenancy.money import CURRENCY_CHOICES, MINOR_UNITS, currency_name, minor_unit, parse_amount, quantize, validate_currency


@pytest.mark.parametrize(("code", "places"), [("JPY", 0), ("KWD", 3), ("CNY", 2), ("USD", 2)])
def test_minor_units_come_from_babel(code, places):
    assert minor_unit(code) == places
    assert MINOR_UNITS[code] == places
    assert validate_currency(code.lower()) == code


def test_every_currency_in_use_today_is_valid_not_only_the_old_35():
    assert len(MINOR_UNITS) > 140
    for code in ("AFN", "NGN", "KES", "VES", "XOF", "ISK"):  # none was in the hand-kept table
        assert validate_currency(code) == code
    assert ("NGN", "NGN") in CURRENCY_CHOICES
    assert quantize(Decimal("10.5"), "ISK") == Decimal("11")  # ISK has no minor unit


@pytest.mark.parametrize("code", ["ABC", "DEM", "XXX", "XAU", "", "CNYY"])
def test_an_unknown_or_retired_code_is_a_clear_error(code):
    # DEM went with the euro; XXX, XAU are not currencies an invoice is written in
    with pytest.raises(DomainError) as refused:
        validate_currency(code)
    assert refused.value.code == ErrorCode.UNKNOWN_CURRENCY
    assert refused.value.field == "currency"
    assert refused.value.message == (f"Unknown currency {code!r}: use a 3-letter ISO 4217 code in use today, "
                                     "such as CNY, USD or EUR.")


def test_currency_names_in_the_readers_language():
    assert currency_name("CNY", "en") == "Chinese Yuan"
    assert currency_name("CNY", "zh-hans") == "人民币"


def test_messages_name_the_field_by_its_label_and_keep_the_key():
    with pytest.raises(DomainError) as refused:
        parse_amount("0", field="net_amount")
    assert refused.value.field == "net_amount"  # the API's key is unchanged
    assert refused.value.message == "Net amount: must be more than zero."
    assert refused.value.detail == "must be more than zero."


def test_money_messages_are_translated():
    with translation.override("zh-hans"):
        with pytest.raises(DomainError) as finer:
            parse_amount("1000.5", field="amount", currency="JPY")
        with pytest.raises(DomainError) as unknown:
            validate_currency("ABC")
    assert finer.value.message == "金额：1000.5 JPY：JPY 金额必须为整数（无辅币单位）。"
    assert unknown.value.message.startswith("未知币种 'ABC'")
