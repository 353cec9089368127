"""Money: Decimal amounts with an ISO 4217 currency, rounded once at the edge.

Amounts are stored as numeric(20, 4) beside a 3-letter currency. Arithmetic across two
currencies raises; converting goes through stored FX rates (receivables.selectors).

Currency data (which codes exist, their minor units and names) comes from Babel's copy of the
Unicode CLDR, not from a table kept here: every code that some country uses as legal tender today
is valid, with CLDR's number of decimals (JPY 0, CNY 2, KWD 3). Text for people goes through
`money_format` / `amount_format`, which write an amount the way the reader's language does
(`CN¥211,310.00` in English, `¥211,310.00` in Chinese).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale
from babel.core import get_global
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_name,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    get_territory_currencies,
)
from django.utils.translation import get_language, gettext, to_locale

from .errors import CurrencyMismatch, DomainError, ErrorCode, field_label


def _active_currencies(today: dt.date) -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere on `today` (CLDR's territory currencies);
    funds codes, precious metals and the testing codes (XTS, XXX) are not for invoices."""
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, today, tender=True, non_tender=False))
    return frozenset(codes)


# Code -> ISO 4217 minor unit (decimals) of every currency Inflow accepts: 154 with Babel 2.18.
MINOR_UNITS: dict[str, int] = {code: get_currency_precision(code)
                               for code in sorted(_active_currencies(dt.datetime.now(tz=dt.UTC).date()))}
CURRENCY_CHOICES = [(code, code) for code in MINOR_UNITS]


def currency_choices() -> list[tuple[str, str]]:
    """The model fields' choices, as a callable so the list can grow with Babel without a migration."""
    return CURRENCY_CHOICES


def minor_unit(currency: str) -> int:
    """Decimals of `currency` (JPY 0, CNY 2, KWD 3); 2 for a code Babel does not know."""
    units = MINOR_UNITS.get(currency)  # not .get(currency, default): that would ask Babel every time
    return units if units is not None else get_currency_precision(currency or "XXX")


AMOUNT_DIGITS = 20
AMOUNT_PLACES = 4
ZERO = Decimal("0")


@lru_cache(maxsize=16)
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(to_locale(language))
    except (ValueError, LookupError):
        return Locale.parse("en")


def _reader_locale(language: str | None) -> Locale:
    return _locale(language or get_language() or "en")


def currency_name(currency: str, language: str | None = None) -> str:
    """The currency's name in the reader's language: CNY -> "Chinese Yuan" / "人民币"."""
    return get_currency_name(currency, locale=_reader_locale(language))


# A letter then a digit, or a digit then a letter (CLDR's currency spacing: symbols, not letters, may touch digits).
_LETTER_THEN_DIGIT = re.compile(r"([^\W\d_])(\d)")
_DIGIT_THEN_LETTER = re.compile(r"(\d)([^\W\d_])")


def money_format_babel(amount: Decimal, currency: str, language: str | None = None) -> str:
    """money_format spelt out with Babel's own formatter (slow: ~100 µs; the reference for the fast path)."""
    text = format_currency(quantize(amount, currency), currency, locale=_reader_locale(language))
    # CLDR's currency spacing, which Babel leaves out: a symbol ending in a letter and the digits are kept
    # apart by a no-break space ("KWD 1,234.500", not "KWD1,234.500"); "¥1", "US$1" stay as they are.
    return _LETTER_THEN_DIGIT.sub("\\1\xa0\\2", _DIGIT_THEN_LETTER.sub("\\1\xa0\\2", text))


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A locale's number pattern resolved once: affixes (symbol in place) and its two separators."""
    prefix: str
    suffix: str
    negative_prefix: str
    negative_suffix: str
    group: str
    decimal: str

    def write(self, number: Decimal) -> str:
        digits = f"{abs(number):,}".replace(",", "\0").replace(".", self.decimal).replace("\0", self.group)
        if number < 0:
            return f"{self.negative_prefix}{digits}{self.negative_suffix}"
        return f"{self.prefix}{digits}{self.suffix}"


def _spaced(affix: str, *, before_digits: bool) -> str:
    if before_digits and affix[-1:].isalpha():
        return affix + "\xa0"
    if not before_digits and affix[:1].isalpha():
        return "\xa0" + affix
    return affix


@lru_cache(maxsize=1024)
def _pattern(language: str, currency: str | None) -> _Pattern | None:
    """The pattern of `language` for amounts in `currency` (None: a bare number), or None when it does not
    group by threes (then Babel formats each amount itself)."""
    locale = _locale(language)
    pattern = locale.currency_formats["standard"] if currency else locale.decimal_formats[None]
    if tuple(pattern.grouping) != (3, 3):
        return None
    symbol = get_currency_symbol(currency, locale) if currency else ""
    (prefix, negative_prefix), (suffix, negative_suffix) = (
        tuple(p.replace("¤", symbol) for p in pattern.prefix), tuple(p.replace("¤", symbol) for p in pattern.suffix))
    return _Pattern(prefix=_spaced(prefix, before_digits=True), suffix=_spaced(suffix, before_digits=False),
                    negative_prefix=_spaced(negative_prefix, before_digits=True),
                    negative_suffix=_spaced(negative_suffix, before_digits=False),
                    group=get_group_symbol(locale), decimal=get_decimal_symbol(locale))


def money_format(amount: Decimal, currency: str, language: str | None = None) -> str:
    """An amount with its currency symbol, as the reader's language writes it, to the minor unit:
    211310.0000 CNY -> "CN¥211,310.00" (en) / "¥211,310.00" (zh-hans); 1234 JPY -> "¥1,234" (en).
    CLDR's pattern for the language is resolved once per currency, so a page of thousands of amounts
    costs what Python's own formatting does (tests compare it with Babel's formatter)."""
    language = language or get_language() or "en"
    pattern = _pattern(language, currency)
    if pattern is None:
        return money_format_babel(amount, currency, language)
    return pattern.write(quantize(amount, currency))


def amount_format(amount: Decimal, currency: str, language: str | None = None) -> str:
    """An amount without its currency (for a column that names it), to the minor unit: "211,310.00"."""
    language = language or get_language() or "en"
    pattern = _pattern(language, None)
    if pattern is None:
        places = minor_unit(currency)
        return format_decimal(quantize(amount, currency), format="#,##0" + ("." + "0" * places if places else ""),
                              locale=_reader_locale(language), decimal_quantization=False)
    return pattern.write(quantize(amount, currency))


def validate_currency(code: str) -> str:
    """Return the upper-cased code, or raise if Inflow does not know it."""
    normalized = (code or "").strip().upper()
    if normalized not in MINOR_UNITS:
        raise DomainError(
            gettext("Unknown currency %(code)s: use a 3-letter ISO 4217 code in use today, such as CNY, USD "
                    "or EUR.") % {"code": repr(code)},
            code=ErrorCode.UNKNOWN_CURRENCY,
            field="currency",
        )
    return normalized


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half up (the one rounding rule of Inflow)."""
    exponent = Decimal(1).scaleb(-minor_unit(currency))
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)


def sql_decimal(value: Decimal | int | float | str) -> Decimal:
    """An amount (or a sum of amounts) as raw SQL returns it, as a Decimal with its exact value.

    PostgreSQL returns numeric as Decimal. SQLite keeps numeric(20, 4) as integer or binary float,
    so 1.005 comes back as 1.00499999999999989...: rounded to AMOUNT_PLACES (the stored places, so
    any sum of stored amounts is exact there), it is 1.0050 again, and rounding to cents later
    gives 1.01, not 1.00."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(Decimal(1).scaleb(-AMOUNT_PLACES), rounding=ROUND_HALF_UP)
    if isinstance(value, int | str) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"not an SQL amount: {value!r}")


# The one way an amount is written as text, at every entry point (API, forms, bulk, importer after
# its separators are read): ASCII digits, an optional "." and more ASCII digits, an optional leading
# "-" (refused later with a clearer message). No exponent ("1e5"), no "_" ("1_000"), no "+", no
# surrounding spaces, no Arabic-Indic or full-width digits (Python's Decimal() takes all of those).
AMOUNT_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def amount_text_problem(raw: str) -> str | None:
    """Why a written amount is not one (None when it is), in the words the API and forms show."""
    if AMOUNT_TEXT.fullmatch(raw):
        return None
    return gettext("%(raw)s is not an amount: write digits 0-9 with an optional decimal point, such as "
                   "\"1250.00\" (no exponent, sign, spaces, separators or other digit characters).") % {
        "raw": repr(raw)}


def minor_unit_problem(amount: Decimal, currency: str) -> str | None:
    """Why `amount` is finer than `currency`'s ISO 4217 minor unit (None when it is not)."""
    places = minor_unit(currency)
    if amount == amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
        return None
    values = {"amount": f"{amount.normalize():f}", "currency": currency, "places": places}
    if places == 0:
        return gettext("%(amount)s %(currency)s: %(currency)s amounts are whole numbers (no minor unit).") % values
    return gettext("%(amount)s %(currency)s: %(currency)s amounts have at most %(places)s decimal places.") % values


def _refuse(field: str, detail: str) -> DomainError:
    """A DomainError on `field` whose message names the field by its label ("Net amount: ..."); the API
    keeps `field` as its key."""
    return DomainError(gettext("%(field)s: %(detail)s") % {"field": field_label(field), "detail": detail},
                       field=field, detail=detail)


def minor_unit_check(amount: Decimal, currency: str, *, field: str = "amount") -> Decimal:
    """Refuse an amount finer than the currency's minor unit (130.0049 CNY, 1000.5 JPY)."""
    if (problem := minor_unit_problem(amount, currency)) is not None:
        raise _refuse(field, problem)
    return amount


# Model label -> amount fields that must respect the row's `currency` minor unit; apps register theirs
# (receivables: invoices, payments, credit notes) and tenancy.services.model_check enforces it.
MINOR_UNIT_FIELDS: dict[str, tuple[str, ...]] = {}


def minor_unit_fields_register(label: str, fields: tuple[str, ...]) -> None:
    MINOR_UNIT_FIELDS[label] = fields


def parse_amount(raw: object, *, field: str = "amount", allow_zero: bool = False,
                 currency: str | None = None) -> Decimal:
    """Strictly parse a user-supplied amount: finite, non-negative, at most 4 decimals (and, with
    `currency`, no finer than its minor unit). Text must match AMOUNT_TEXT."""
    if isinstance(raw, float):
        raise _refuse(field, gettext("amounts must be given as strings or decimals, not floats."))
    if isinstance(raw, str) and (problem := amount_text_problem(raw)) is not None:
        try:
            Decimal(raw.strip())
        except (InvalidOperation, ValueError):
            problem = gettext("%(raw)s is not a number.") % {"raw": repr(raw)}
        raise _refuse(field, problem)
    try:
        value = Decimal(raw) if isinstance(raw, Decimal | int) and not isinstance(raw, bool) else Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise _refuse(field, gettext("%(raw)s is not a number.") % {"raw": repr(raw)}) from None
    if not value.is_finite():
        raise _refuse(field, gettext("%(raw)s is not a finite number.") % {"raw": repr(raw)})
    if value < 0 or (value == 0 and not allow_zero):
        raise _refuse(field, gettext("must be zero or more.") if allow_zero else gettext("must be more than zero."))
    if value.as_tuple().exponent < -AMOUNT_PLACES:  # type: ignore[operator]
        raise _refuse(field, gettext("at most %(places)s decimal places.") % {"places": AMOUNT_PLACES})
    if value.adjusted() >= AMOUNT_DIGITS - AMOUNT_PLACES:
        raise _refuse(field, gettext("%(raw)s is too large.") % {"raw": repr(raw)})
    if currency is not None:
        minor_unit_check(value, currency, field=field)
    return value.copy_abs()  # never negative here; -0.00 becomes 0.00 (it would print as "-0.00")


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(ZERO, currency)

    def _check(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(gettext("Cannot combine %(one)s with %(other)s.")
                                   % {"one": self.currency, "other": other.currency})

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def quantized(self) -> Money:
        return Money(quantize(self.amount, self.currency), self.currency)

    def __str__(self) -> str:
        return f"{quantize(self.amount, self.currency):,} {self.currency}"
