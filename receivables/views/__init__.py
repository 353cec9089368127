"""Browser pages of the receivables ledger: thin views over the services and selectors."""

from .credits import credit_note_update, write_off_update
from .customers import customer_bulk_export, customer_create, customer_detail, customer_list, customer_update
from .dashboard import dashboard
from .fx import fx_rate_list, fx_realized
from .invoices import (
    invoice_bulk_export,
    invoice_create,
    invoice_credit_note,
    invoice_detail,
    invoice_list,
    invoice_update,
    invoice_void,
    invoice_write_off,
)
from .payments import (
    payment_allocate,
    payment_detail,
    payment_list,
    payment_record,
    payment_refund,
    payment_reverse,
    payment_unapply,
    payment_update,
)

__all__ = [
    "credit_note_update", "customer_bulk_export", "customer_create", "customer_detail", "customer_list",
    "customer_update", "dashboard", "fx_rate_list", "fx_realized", "invoice_bulk_export", "invoice_create",
    "invoice_credit_note", "invoice_detail", "invoice_list", "invoice_update", "invoice_void", "invoice_write_off",
    "payment_allocate", "payment_detail", "payment_list", "payment_record", "payment_refund", "payment_reverse",
    "payment_unapply", "payment_update", "write_off_update",
]
