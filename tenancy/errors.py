"""Domain errors raised by services; views and the API turn them into messages."""

from enum import StrEnum


class ErrorCode(StrEnum):
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    CURRENCY_MISMATCH = "currency_mismatch"
    UNKNOWN_CURRENCY = "unknown_currency"
    MISSING_FX_RATE = "missing_fx_rate"
    # A cross-currency allocation line gave neither payment_amount nor rate and no stored rate converts (a 400).
    FX_RATE_REQUIRED = "fx_rate_required"
    OVER_APPLICATION = "over_application"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    INVOICE_NOT_OPEN = "invoice_not_open"
    INVOICE_HAS_APPLICATIONS = "invoice_has_applications"
    DUPLICATE = "duplicate"
    CUSTOMER_MISMATCH = "customer_mismatch"
    IMPORT_INVALID = "import_invalid"
    CREDIT_HOLD = "credit_hold"
    # Another write holds the row (e.g. two reversals of one payment at once): a 409, retry.
    CONCURRENT_CHANGE = "concurrent_change"


class DomainError(Exception):
    """A business rule refused the operation; nothing was written."""

    code: ErrorCode = ErrorCode.INVALID

    def __init__(self, message: str, *, code: ErrorCode | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field

    def __str__(self) -> str:
        return self.message


class PermissionDenied(DomainError):
    code = ErrorCode.PERMISSION_DENIED


class CurrencyMismatch(DomainError):
    code = ErrorCode.CURRENCY_MISMATCH


class RowsInvalid(DomainError):
    """Some rows of a many-row write are invalid; nothing was written. `rows`: row index -> its errors."""

    def __init__(self, rows: dict[int, list[DomainError]]):
        self.rows = rows
        super().__init__(f"{len(rows)} row(s) have errors; nothing was written.")
