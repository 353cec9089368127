"""Every write to the receivables ledger, one module per entity; the public names are re-exported
here, so `from receivables import services` and `services.invoice_create(...)` keep working.

Services are keyword-only and atomic, check the actor's role, lock rows in the README's documented
order (payment or credit note first, then invoices by primary key, the audit chain last), keep
`applied_amount` / `unapplied_amount` in step with the allocations, and append to the audit chain in
the same transaction. The database's CHECK constraints are the last line: if a bug got past the
locks, the write would fail rather than over-apply.
"""

from ..models import (  # noqa: F401 - long-standing `services.Customer` etc. callers
    Allocation,
    AllocationKind,
    CreditNote,
    Customer,
    FxRate,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    WriteOff,
)
from .bulk import (
    customers_create_many,
    customers_update_many,
    invoices_create_many,
    invoices_update_many,
    payments_check_many,
    payments_record_many,
)
from .common import (
    BULK_BATCH,
    CUSTOMER_FIELDS,
    INVOICE_AUDIT_FIELDS,
    INVOICE_EDITABLE_FIELDS,
    PAYMENT_AUDIT_FIELDS,
)
from .credits import (
    CREDIT_NOTE_EDITABLE_FIELDS,
    WRITE_OFF_EDITABLE_FIELDS,
    credit_note_apply,
    credit_note_create,
    credit_note_update,
    invoice_write_off,
    write_off_update,
)
from .customers import customer_create, customer_update
from .fx import Conversion, fx_rate_set
from .invoices import invoice_create, invoice_update, invoice_void
from .payments import PAYMENT_EDITABLE_FIELDS, payment_allocate, payment_record, payment_update
from .reversals import (
    credit_note_reverse,
    ledger_settings_of,
    ledger_settings_update,
    payment_reassign,
    payment_refund,
    payment_reverse,
    payment_unapply,
    write_off_reverse,
)

__all__ = [
    "BULK_BATCH",
    "CREDIT_NOTE_EDITABLE_FIELDS",
    "CUSTOMER_FIELDS",
    "INVOICE_AUDIT_FIELDS",
    "INVOICE_EDITABLE_FIELDS",
    "PAYMENT_AUDIT_FIELDS",
    "PAYMENT_EDITABLE_FIELDS",
    "WRITE_OFF_EDITABLE_FIELDS",
    "Conversion",
    "credit_note_apply",
    "credit_note_create",
    "credit_note_reverse",
    "credit_note_update",
    "customer_create",
    "customer_update",
    "customers_create_many",
    "customers_update_many",
    "fx_rate_set",
    "invoice_create",
    "invoice_update",
    "invoice_void",
    "invoice_write_off",
    "invoices_create_many",
    "invoices_update_many",
    "ledger_settings_of",
    "ledger_settings_update",
    "payment_allocate",
    "payment_reassign",
    "payment_record",
    "payment_refund",
    "payment_reverse",
    "payment_unapply",
    "payment_update",
    "payments_check_many",
    "payments_record_many",
    "write_off_reverse",
    "write_off_update",
]
