"""Import problems: each one names the row and column as the user sees them in their file."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _

from tenancy.errors import DomainError, ErrorCode

HEADER_ROW = 1  # problems with the header or the mapping itself are reported on row 1


@dataclass(frozen=True, order=True)
class RowError:
    row: int  # 1 is the header, the first data row is 2 (as a spreadsheet shows it)
    column: str  # the column name in THEIR file ("" when no single column is to blame)
    message: str

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        if self.column:
            return _("row %(row)s, column %(column)s: %(message)s") % {
                "row": self.row, "column": self.column, "message": self.message}
        return _("row %(row)s: %(message)s") % {"row": self.row, "message": self.message}


class ImportInvalidError(DomainError):
    """The file cannot be imported; `errors` lists every problem found, nothing was written."""

    code = ErrorCode.IMPORT_INVALID

    def __init__(self, errors: list[RowError]):
        self.errors = sorted(errors)
        super().__init__(
            _("%(count)s problem(s) in the file; nothing was imported.") % {"count": len(self.errors)},
            code=ErrorCode.IMPORT_INVALID,
        )


# A service's DomainError names its own field; these are the import (and bulk row) fields behind them.
SERVICE_FIELDS = {"invoice": "invoice_number"}


def import_field(error: DomainError) -> str:
    """The import / bulk-row field a service error is about ("" for the row as a whole)."""
    return SERVICE_FIELDS.get(error.field or "", error.field or "")
