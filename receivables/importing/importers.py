"""One importer per kind: database-aware checks over the whole file, then the upsert of every row.

`check` runs before anything is written and reports every problem it can see (unknown
customers, numbers taken by another invoice, payments that would over-apply...). `write_many`
upserts the rows by external id through the ledger's many-at-once services
(`*_create_many`, `*_update_many`, `payments_record_many`), which apply the same rules and
audit entries as a change made one at a time in the UI or the API."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from receivables import services
from receivables.models import Customer, ImportKind, Invoice, Payment
from tenancy.db import filter_in
from tenancy.errors import RowsInvalid
from tenancy.models import Organization
from tenancy.money import ZERO, minor_unit_problem
from tenancy.services import Actor

from .errors import RowError, import_field
from .mapping import Mapping
from .parsing import ParsedRow

CHUNK = 1000  # keys per IN (...) lookup, off PostgreSQL
WRITE_CHUNK = 2000  # rows per set-based write (one progress step each)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def _lookup(queryset: QuerySet, field: str, keys: Iterable[str]) -> dict[str, Model]:
    keys = sorted(set(keys))
    chunk = max(len(keys), 1) if connections[queryset.db].vendor == "postgresql" else CHUNK  # one array there
    found: dict[str, Model] = {}
    for start in range(0, len(keys), chunk):
        for obj in filter_in(queryset, field, keys[start:start + chunk]):
            found[getattr(obj, field)] = obj
    return found


class Importer:
    kind: str

    def __init__(self, *, organization: Organization, actor: Actor, mapping: Mapping):
        self.organization = organization
        self.actor = actor
        self.mapping = mapping
        self.repeats: set[int] = set()  # rows that repeat an earlier row of the file exactly
        self.warnings: dict[int, str] = {}  # row number -> credit-hold warning (the invoice was still created)

    def error(self, row: ParsedRow, field: str, message: str) -> RowError:
        return RowError(row.number, self.mapping.column_of(field), message)

    def _repeats_check(self, rows: list[ParsedRow]) -> list[RowError]:
        """The same external id twice is fine only when both rows say the same thing."""
        first: dict[str, ParsedRow] = {}
        errors = []
        for row in rows:
            key = row.values["external_id"]
            earlier = first.setdefault(key, row)
            if earlier is row:
                continue
            if earlier.values == row.values:
                self.repeats.add(row.number)
            else:
                errors.append(self.error(row, "external_id", _("External id %(id)s is also on row %(row)s with "
                                                               "different values.")
                                         % {"id": key, "row": earlier.number}))
        return errors

    def check(self, rows: list[ParsedRow]) -> list[RowError]:
        raise NotImplementedError

    def write_many(self, rows: list[ParsedRow], progress: Callable[[int], None] | None = None) -> dict[int, Outcome]:
        """Write checked rows: {row number: outcome}, in a fixed number of statements per chunk of
        rows. A refused row raises RowsInvalid keyed by row number (the caller's transaction then
        writes nothing)."""
        raise NotImplementedError

    def _customers(self, keys: Iterable[str]) -> dict[str, Customer]:
        return _lookup(Customer.objects.filter(organization=self.organization), "external_id", keys)


def _changes(obj: Model, values: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {name: values[name] for name in fields if name in values and getattr(obj, name) != values[name]}


def _chunked(items: list, row_of: Callable[[Any], ParsedRow], write: Callable[[list], Any]):
    """Call `write` on chunks of WRITE_CHUNK items, yielding (chunk, result); a RowsInvalid's row
    indexes (within the chunk) become the file's row numbers."""
    for start in range(0, len(items), WRITE_CHUNK):
        chunk = items[start:start + WRITE_CHUNK]
        try:
            result = write(chunk)
        except RowsInvalid as exc:
            raise RowsInvalid({row_of(chunk[index]).number: errors for index, errors in exc.rows.items()}) from exc
        yield chunk, result


def _split(importer: Importer, rows: list[ParsedRow], fields: Iterable[str]):
    """(outcomes so far, new rows, changed (row, object, changes)): repeats and rows that change
    nothing are unchanged."""
    outcomes: dict[int, Outcome] = {}
    new: list[ParsedRow] = []
    changed: list[tuple[ParsedRow, Model, dict[str, Any]]] = []
    for row in rows:
        obj = importer.existing.get(row.values["external_id"])
        if row.number in importer.repeats:
            outcomes[row.number] = Outcome.UNCHANGED
        elif obj is None:
            new.append(row)
        elif changes := _changes(obj, row.values, fields):
            changed.append((row, obj, changes))
        else:
            outcomes[row.number] = Outcome.UNCHANGED
    return outcomes, new, changed


def _first(item: tuple) -> ParsedRow:
    return item[0]


def _itself(row: ParsedRow) -> ParsedRow:
    return row


# --- customers -----------------------------------------------------------------------------

CUSTOMER_IMPORT_FIELDS = ("name", "legal_name", "registration_number", "country", "currency", "payment_terms_days",
                          "language", "contact_emails", "segment")


class CustomerImporter(Importer):
    kind = ImportKind.CUSTOMERS

    def check(self, rows: list[ParsedRow]) -> list[RowError]:
        self.existing = self._customers(row.values["external_id"] for row in rows)
        return self._repeats_check(rows)

    def write_many(self, rows: list[ParsedRow], progress: Callable[[int], None] | None = None) -> dict[int, Outcome]:
        """New customers through customers_create_many, changed ones through customers_update_many,
        in chunks (customer_create's and customer_update's rules, written in bulk)."""
        outcomes, new, changed = _split(self, rows, CUSTOMER_IMPORT_FIELDS)
        for chunk, created in _chunked(new, _itself, lambda chunk: services.customers_create_many(
                organization=self.organization, actor=self.actor, rows=[row.values for row in chunk])):
            for row, customer in zip(chunk, created, strict=True):
                self.existing[row.values["external_id"]] = customer
                outcomes[row.number] = Outcome.CREATED
        for chunk, _result in _chunked(changed, _first, lambda chunk: services.customers_update_many(
                organization=self.organization, actor=self.actor, changes=[(c, changes) for _r, c, changes in chunk])):
            outcomes.update((row.number, Outcome.UPDATED) for row, _c, _changes in chunk)
        if progress:
            progress(len(outcomes))
        return {number: outcomes[number] for number in sorted(outcomes)}

INVOICE_UPDATE_FIELDS = ("issue_date", "due_date", "net_amount", "tax_amount", "description", "po_reference")
# Invoice columns that are not the ledger's: a higher app stores them (forecasting: `disputed`), registered as
# name -> store(organization, {invoice id: value}) from its AppConfig.ready(); unregistered, they are ignored.
INVOICE_EXTRA_FIELDS = ("disputed",)
INVOICE_COLUMN_STORES: dict[str, Callable[[Organization, dict[int, Any]], None]] = {}


def invoice_column_register(name: str, store: Callable[[Organization, dict[int, Any]], None]) -> None:
    INVOICE_COLUMN_STORES[name] = store


class InvoiceImporter(Importer):
    kind = ImportKind.INVOICES

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.customers_created = 0

    def _amounts_resolve(self, row: ParsedRow) -> list[RowError]:
        """net + tax = total, whichever two (or one) of them the file gives."""
        values = row.values
        net, tax, total = values.get("net_amount"), values.get("tax_amount"), values.pop("total_amount", None)
        if net is None and total is None:
            return [self.error(row, "net_amount" if "net_amount" in self.mapping.columns else "total_amount",
                               _("A value is required (net or total amount)."))]
        if total is not None and net is None:
            net = total - (tax or ZERO)
            if net <= 0:
                return [self.error(row, "total_amount", _("The total %(total)s is not more than the tax %(tax)s.")
                                   % {"total": total, "tax": tax})]
        elif total is not None:
            if tax is not None and net + tax != total:
                return [self.error(row, "total_amount", _("The total %(total)s is not net %(net)s + tax %(tax)s.")
                                   % {"total": total, "net": net, "tax": tax})]
            tax = total - net
            if tax < 0:
                return [self.error(row, "total_amount", _("The total %(total)s is less than the net amount %(net)s.")
                                   % {"total": total, "net": net})]
        values["net_amount"] = net
        if tax is not None:
            values["tax_amount"] = tax
        return []

    def _row_check(self, row: ParsedRow, numbers_taken: dict[str, str | None]) -> list[RowError]:
        values = row.values
        errors = self._amounts_resolve(row)
        due, issue = values.get("due_date"), values["issue_date"]
        if due is not None and due < issue:
            errors.append(self.error(row, "due_date", _("The due date %(due)s is before the issue date %(issue)s.")
                                     % {"due": due.isoformat(), "issue": issue.isoformat()}))
        invoice = self.existing.get(values["external_id"])
        customer = self.customers.get(values["customer_external_id"])
        currency = values.get("currency") or (invoice.currency if invoice is not None else None) or (
            customer.currency if customer is not None else self.organization.base_currency)
        for name in ("net_amount", "tax_amount"):  # no finer than the currency's minor unit (bulk API too)
            if values.get(name) is not None and (problem := minor_unit_problem(values[name], currency)):
                errors.append(self.error(row, name, problem))
        if invoice is not None:
            errors += self._existing_check(row, invoice)
        elif customer is None and not values.get("customer_name"):
            message = _("No customer has external id %(id)s; import customers first, or map a customer name column "
                        "to create missing customers.") % {"id": values["customer_external_id"]}
            errors.append(self.error(row, "customer_external_id", message))
        owner = numbers_taken.setdefault(values["number"], values["external_id"])
        if owner != values["external_id"]:
            errors.append(self.error(row, "number", _("Invoice number %(number)s already belongs to another invoice "
                                                      "(external id %(id)s).")
                                     % {"number": values["number"], "id": owner or _("none")}))
        return errors

    def _existing_check(self, row: ParsedRow, invoice: Invoice) -> list[RowError]:
        values, errors = row.values, []
        if invoice.number != values["number"]:
            errors.append(self.error(row, "number", _("This invoice was imported as number %(old)s; the number cannot "
                                                      "change.") % {"old": invoice.number}))
        if invoice.customer.external_id != values["customer_external_id"]:
            errors.append(self.error(row, "customer_external_id",
                                     _("This invoice belongs to customer %(old)s; the customer cannot change.")
                                     % {"old": invoice.customer.external_id or invoice.customer.name}))
        if values.get("currency", invoice.currency) != invoice.currency:
            errors.append(self.error(row, "currency", _("This invoice is in %(old)s; the currency cannot change.")
                                     % {"old": invoice.currency}))
        return errors

    def check(self, rows: list[ParsedRow]) -> list[RowError]:
        invoices = Invoice.objects.filter(organization=self.organization).select_related("customer")
        self.existing = _lookup(invoices, "external_id", (row.values["external_id"] for row in rows))
        self.customers = self._customers(row.values["customer_external_id"] for row in rows)
        numbers_taken: dict[str, str | None] = {
            number: invoice.external_id
            for number, invoice in _lookup(invoices, "number", (row.values["number"] for row in rows)).items()
        }
        errors = self._repeats_check(rows)
        for row in rows:
            if row.number not in self.repeats:
                errors += self._row_check(row, numbers_taken)
        return errors

    def _customer(self, values: dict[str, Any]) -> Customer:
        key = values["customer_external_id"]
        if key not in self.customers:
            # customer_name is mapped (check() made sure): create the missing customer once.
            self.customers[key] = services.customer_create(
                organization=self.organization, actor=self.actor, external_id=key, name=values["customer_name"],
                currency=values.get("currency") or self.organization.base_currency)
            self.customers_created += 1
        return self.customers[key]

    def write_many(self, rows: list[ParsedRow], progress: Callable[[int], None] | None = None) -> dict[int, Outcome]:
        """Changed invoices through invoices_update_many, new ones through invoices_create_many, in
        chunks (invoice_update's and invoice_create's rules, written in bulk)."""
        outcomes, new, changed = _split(self, rows, INVOICE_UPDATE_FIELDS)
        for chunk, _result in _chunked(changed, _first, lambda chunk: services.invoices_update_many(
                organization=self.organization, actor=self.actor, changes=[(i, changes) for _r, i, changes in chunk])):
            outcomes.update((row.number, Outcome.UPDATED) for row, _i, _changes in chunk)
        if progress and outcomes:
            progress(len(outcomes))
        for chunk, created in _chunked(new, _itself, lambda chunk: services.invoices_create_many(
                organization=self.organization, actor=self.actor,
                rows=[{**self._create_fields(row.values), "customer": self._customer(row.values)} for row in chunk])):
            for row, invoice in zip(chunk, created, strict=True):
                self.existing[row.values["external_id"]] = invoice
                outcomes[row.number] = Outcome.CREATED
                if invoice.credit_warning:
                    self.warnings[row.number] = invoice.credit_warning
            if progress:
                progress(len(outcomes))
        for name, store in INVOICE_COLUMN_STORES.items():
            if extra := {self.existing[row.values["external_id"]].pk: row.values[name]
                         for row in rows if name in row.values}:
                store(self.organization, extra)
        return {number: outcomes[number] for number in sorted(outcomes)}

    @staticmethod
    def _create_fields(values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in values.items()
                if k not in ("customer_external_id", "customer_name", *INVOICE_EXTRA_FIELDS)}


# --- payments ------------------------------------------------------------------------------

class PaymentImporter(Importer):
    kind = ImportKind.PAYMENTS

    def _existing_check(self, row: ParsedRow, payment: Payment, customer: Customer | None) -> list[RowError]:
        values = row.values
        wanted = {
            "customer_id": customer.pk if customer else None,
            "received_on": values["received_on"],
            "amount": values["amount"],
            "currency": values.get("currency") or payment.currency,
            "method": values.get("method", payment.method),
            "reference": values.get("reference", payment.reference),
        }
        differing = sorted(name for name, value in wanted.items() if getattr(payment, name) != value)
        if not differing:
            return []
        return [self.error(row, "external_id", _("Payment %(id)s was already imported with other values "
                                                 "(%(fields)s); a recorded payment cannot be changed by an import.")
                           % {"id": values["external_id"], "fields": ", ".join(differing)})]

    def check(self, rows: list[ParsedRow]) -> list[RowError]:
        self.existing = _lookup(Payment.objects.filter(organization=self.organization), "external_id",
                                (row.values["external_id"] for row in rows))
        self.customers = self._customers(row.values["customer_external_id"] for row in rows)
        self.invoices = _lookup(Invoice.objects.filter(organization=self.organization), "number",
                                (row.values["invoice_number"] for row in rows if row.values.get("invoice_number")))
        errors = self._repeats_check(rows)
        for row in rows:
            if row.number in self.repeats:
                continue
            customer = self.customers.get(row.values["customer_external_id"])
            payment = self.existing.get(row.values["external_id"])
            if payment is not None:
                errors += self._existing_check(row, payment, customer)
            elif customer is None:
                errors.append(self.error(row, "customer_external_id",
                                         _("No customer has external id %(id)s; import customers first.")
                                         % {"id": row.values["customer_external_id"]}))
            elif row.values.get("invoice_number") and row.values["invoice_number"] not in self.invoices:
                errors.append(self.error(row, "invoice_number", _("No invoice has number %(number)s.")
                                         % {"number": row.values["invoice_number"]}))
        # Whether each new payment may settle what it names (customer, currency, the balance left after
        # the rows before it) is the service's rule: asked here so every problem is listed in one pass.
        writable = [row for row in rows if row.number not in self.repeats
                    and row.values["external_id"] not in self.existing
                    and row.values["customer_external_id"] in self.customers
                    and (not row.values.get("invoice_number") or row.values["invoice_number"] in self.invoices)]
        problems = services.payments_check_many(organization=self.organization,
                                                rows=[self._payment_fields(row) for row in writable])
        errors += [self.error(writable[index], import_field(error), error.message)
                   for index, row_errors in problems.items() for error in row_errors]
        return errors

    def write_many(self, rows: list[ParsedRow], progress: Callable[[int], None] | None = None) -> dict[int, Outcome]:
        """New payments in chunks through payments_record_many (payment_record's rules, each payment
        applied in file order, written in bulk); repeats and known payments are unchanged."""
        outcomes: dict[int, Outcome] = {}
        new = []
        for row in rows:
            if row.number in self.repeats or row.values["external_id"] in self.existing:
                outcomes[row.number] = Outcome.UNCHANGED
            else:
                new.append(row)
        for chunk, created in _chunked(new, _itself, lambda chunk: services.payments_record_many(
                organization=self.organization, actor=self.actor, rows=[self._payment_fields(row) for row in chunk])):
            for row, payment in zip(chunk, created, strict=True):
                self.existing[row.values["external_id"]] = payment
                outcomes[row.number] = Outcome.CREATED
            if progress:
                progress(len(outcomes))
        if progress and not new:
            progress(len(outcomes))
        return {number: outcomes[number] for number in sorted(outcomes)}

    def _payment_fields(self, row: ParsedRow) -> dict[str, Any]:
        values = row.values
        return {**{k: v for k, v in values.items() if k not in ("customer_external_id", "invoice_number")},
                "customer": self.customers[values["customer_external_id"]],
                "invoice": self.invoices.get(values.get("invoice_number") or "")}


IMPORTERS: dict[str, type[Importer]] = {
    ImportKind.CUSTOMERS: CustomerImporter,
    ImportKind.INVOICES: InvoiceImporter,
    ImportKind.PAYMENTS: PaymentImporter,
}
