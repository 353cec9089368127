"""Amounts written for people: Babel formats them for the currency and the reader's language (issue 14 item 9)."""

from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from django.template import Context, Template
from django.utils import translation

from tenancy.money import MINOR_UNITS, amount_format, money_format, money_format_babel, quantize


def render(text: str, language: str, **context) -> str:
    with translation.override(language):
        return Template("{% load inflow %}" + text).render(Context(context))


def test_yuan_reads_cn_yen_in_english_and_yen_in_chinese():
    # the figures: 211310.0000 CNY -> ¥211,310.00 (zh-hans) / CN¥211,310.00 (en)
    assert money_format(Decimal("211310.0000"), "CNY", "zh-hans") == "¥211,310.00"
    assert money_format(Decimal("211310.0000"), "CNY", "en") == "CN¥211,310.00"


def test_the_money_filter_follows_the_page_language():
    template = "{{ value|money:currency }}"
    assert render(template, "en", value=Decimal("211310.0000"), currency="CNY") == "CN¥211,310.00"
    assert render(template, "zh-hans", value=Decimal("211310.0000"), currency="CNY") == "¥211,310.00"
    assert render(template, "zh-hans", value=Decimal("1234.5"), currency="USD") == "US$1,234.50"


@pytest.mark.parametrize(("value", "currency", "expected"), [
    ("1234.5", "JPY", "¥1,235"),          # no minor unit, rounded half up
    ("1234.5", "KWD", "KWD\xa01,234.500"),  # three decimals
    ("0.005", "USD", "$0.01"),            # half up, not half even (Babel's default)
    ("-1250", "EUR", "-€1,250.00"),
])
def test_decimals_follow_the_currencys_minor_unit(value, currency, expected):
    assert money_format(Decimal(value), currency, "en") == expected


def test_the_amount_filter_writes_the_number_only_to_the_minor_unit():
    assert render("{{ v|amount:'JPY' }} {{ v|amount:'KWD' }} {{ v|amount:'CNY' }}", "en",
                  v=Decimal("9876543.2105")) == "9,876,543 9,876,543.211 9,876,543.21"
    assert amount_format(Decimal("0.125"), "CNY", "zh-hans") == "0.13"


def test_no_value_is_a_dash_and_a_missing_currency_is_a_plain_number():
    assert render("{{ none|money:'CNY' }}|{{ v|money }}", "en", none=None, v=Decimal("12.5")) == "—|12.50"


VALUES = ["0.005", "1", "-1", "12.5", "-1234.5678", "211310.0000", "999999999999.9999", "1000000"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_fast_path_writes_what_babel_writes_for_every_currency(language):
    # money_format resolves CLDR's pattern once per (language, currency); Babel's own formatter is the reference
    for currency in MINOR_UNITS:
        for value in VALUES:
            assert money_format(Decimal(value), currency, language) == \
                money_format_babel(Decimal(value), currency, language), (currency, value)
            places = MINOR_UNITS[currency]
            assert amount_format(Decimal(value), currency, language) == format_decimal(
                quantize(Decimal(value), currency), format="#,##0" + ("." + "0" * places if places else ""),
                locale="en", decimal_quantization=False), (currency, value)


def test_an_amount_that_rounds_to_zero_has_no_sign():
    assert money_format(Decimal("-0.004"), "CNY", "en") == "CN¥0.00"
    assert amount_format(Decimal("-0.4"), "JPY", "en") == "0"


def test_a_symbol_ending_in_a_letter_keeps_its_distance_from_the_digits():
    assert money_format(Decimal("1000"), "XAF", "en") == "FCFA\xa01,000"
    assert money_format(Decimal("-5"), "CHF", "zh-hans") == "-CHF\xa05.00"
