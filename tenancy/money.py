"""Money: Decimal amounts with an ISO 4217 currency, rounded once at the edge.

Amounts are stored as numeric(20, 4) beside a 3-letter currency. Arithmetic across two
currencies raises; converting goes through stored FX rates (receivables.selectors).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import CurrencyMismatch, DomainError, ErrorCode

# ISO 4217 minor units for the currencies Inflow accepts; 2 unless listed otherwise.
MINOR_UNITS: dict[str, int] = {
    "AED": 2, "AUD": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2, "CZK": 2, "DKK": 2,
    "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "INR": 2, "JPY": 0, "KRW": 0,
    "MXN": 2, "MYR": 2, "NOK": 2, "NZD": 2, "PHP": 2, "PLN": 2, "RUB": 2, "SAR": 2,
    "SEK": 2, "SGD": 2, "THB": 2, "TRY": 2, "TWD": 2, "USD": 2, "VND": 0, "ZAR": 2,
    "BHD": 3, "KWD": 3, "OMR": 3,
}
CURRENCY_CHOICES = [(code, code) for code in sorted(MINOR_UNITS)]

AMOUNT_DIGITS = 20
AMOUNT_PLACES = 4
ZERO = Decimal("0")


def validate_currency(code: str) -> str:
    """Return the upper-cased code, or raise if Inflow does not know it."""
    normalized = (code or "").strip().upper()
    if normalized not in MINOR_UNITS:
        raise DomainError(
            f"Unknown currency {code!r}: use a 3-letter ISO 4217 code such as CNY, USD or EUR.",
            code=ErrorCode.UNKNOWN_CURRENCY,
            field="currency",
        )
    return normalized


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half up (the one rounding rule of Inflow)."""
    exponent = Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))
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
    return (f"{raw!r} is not an amount: write digits 0-9 with an optional decimal point, such as \"1250.00\" "
            "(no exponent, sign, spaces, separators or other digit characters).")


def minor_unit_problem(amount: Decimal, currency: str) -> str | None:
    """Why `amount` is finer than `currency`'s ISO 4217 minor unit (None when it is not)."""
    places = MINOR_UNITS.get(currency, 2)
    if amount == amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):
        return None
    if places == 0:
        return f"{amount.normalize():f} {currency}: {currency} amounts are whole numbers (no minor unit)."
    return f"{amount.normalize():f} {currency}: {currency} amounts have at most {places} decimal places."


def minor_unit_check(amount: Decimal, currency: str, *, field: str = "amount") -> Decimal:
    """Refuse an amount finer than the currency's minor unit (130.0049 CNY, 1000.5 JPY)."""
    if (problem := minor_unit_problem(amount, currency)) is not None:
        raise DomainError(f"{field}: {problem}", field=field)
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
        raise DomainError(f"{field}: amounts must be given as strings or decimals, not floats.", field=field)
    if isinstance(raw, str) and (problem := amount_text_problem(raw)) is not None:
        try:
            Decimal(raw.strip())
        except (InvalidOperation, ValueError):
            problem = f"{raw!r} is not a number."
        raise DomainError(f"{field}: {problem}", field=field)
    try:
        value = Decimal(raw) if isinstance(raw, Decimal | int) and not isinstance(raw, bool) else Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise DomainError(f"{field}: {raw!r} is not a number.", field=field) from None
    if not value.is_finite():
        raise DomainError(f"{field}: {raw!r} is not a finite number.", field=field)
    if value < 0 or (value == 0 and not allow_zero):
        raise DomainError(f"{field}: must be {'zero or more' if allow_zero else 'more than zero'}.", field=field)
    if value.as_tuple().exponent < -AMOUNT_PLACES:  # type: ignore[operator]
        raise DomainError(f"{field}: at most {AMOUNT_PLACES} decimal places.", field=field)
    if value.adjusted() >= AMOUNT_DIGITS - AMOUNT_PLACES:
        raise DomainError(f"{field}: {raw!r} is too large.", field=field)
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
            raise CurrencyMismatch(f"Cannot combine {self.currency} with {other.currency}.")

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
