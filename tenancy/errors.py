"""Domain errors raised by services; views and the API turn them into messages."""

from enum import StrEnum

from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


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

    def __init__(self, message: str, *, code: ErrorCode | None = None, field: str | None = None,
                 detail: str | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        # The message without its "Field label: " prefix, for a form that shows it next to the field itself.
        self.detail = detail

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
        super().__init__(gettext("%(count)s row(s) have errors; nothing was written.") % {"count": len(rows)})


# What people read for a field name that a message would otherwise show raw ("net_amount"). The API
# keeps the name as its error key; only the text a person reads uses the label.
FIELD_LABELS = {
    "amount": _("Amount"), "net_amount": _("Net amount"), "tax_amount": _("Tax amount"),
    "total_amount": _("Total amount"), "payment_amount": _("Payment amount"), "currency": _("Currency"),
    "fee": _("Fee"), "fee_amount": _("Fee amount"), "limit": _("Limit"), "credit_limit": _("Credit limit"),
    "requested_limit": _("Requested limit"), "installments": _("Instalments"), "interest_rate": _("Interest rate"),
    "recoveries": _("Recoveries"), "amount_received": _("Amount received"), "fee_deducted": _("Fee deducted"),
    "interest_deducted": _("Interest deducted"), "uninsured_appetite": _("Uninsured appetite"),
    "market_value_equity": _("Market value of equity"), "issue_date": _("Issue date"), "due_date": _("Due date"),
    "number": _("Number"), "customer": _("Customer"), "rate": _("Rate"),
}


def field_labels_register(labels: dict) -> None:
    """Apps add the labels of their own field names (name -> lazy translated label)."""
    FIELD_LABELS.update(labels)


def field_label(name: str | None) -> str:
    """The label people read for a field name: "net_amount" -> "Net amount" (translated)."""
    if not name:
        return ""
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else capfirst(name.replace("_", " "))
