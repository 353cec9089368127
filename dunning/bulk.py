"""Collection work on many customers at once, from the customer list's selection: assign a
collector, send each a reminder. Each customer goes through the one-customer service (same rules,
same audit entry); the selection is checked whole first, so another organization's id changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from receivables.models import Customer, Invoice
from receivables.selectors import open_invoices
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.models import Organization, Role
from tenancy.services import Actor, role_require

from . import selectors
from .models import CustomerDunning
from .services import customer_dunning_set
from .services.reminders import reminder_draft, send_one_off

BULK_MAX_CUSTOMERS = 500  # one request; a larger book is worked through the list's pages or the daily run
BATCH_KEY = re.compile(r"[0-9a-f]{32}")


def _customers(organization: Organization, customer_ids: Iterable[int]) -> list[Customer]:
    ids = set(customer_ids)
    if not ids:
        raise DomainError(_("Select at least one customer."))
    if len(ids) > BULK_MAX_CUSTOMERS:
        raise DomainError(_("Select at most %(limit)s customers at once.") % {"limit": BULK_MAX_CUSTOMERS})
    customers = list(Customer.objects.filter(organization=organization, pk__in=ids).order_by("pk"))
    if len(customers) != len(ids):
        raise DomainError(_("The selection holds customers that do not exist; nothing was done."))
    return customers


def invoices_customers(organization: Organization, invoice_ids: Iterable[int]) -> list[int]:
    """The customers of the selected invoices (each once), or DomainError if an id is not one of
    the organization's invoices: the invoice list's "send reminders" reminds their customers."""
    ids = set(invoice_ids)
    if not ids:
        raise DomainError(_("Select at least one invoice."))
    found = dict(Invoice.objects.filter(organization=organization, pk__in=ids).values_list("pk", "customer_id"))
    if len(found) != len(ids):
        raise DomainError(_("The selection holds invoices that do not exist; nothing was done."))
    return sorted(set(found.values()))


@transaction.atomic
def customers_collector_assign(*, organization: Organization, actor: Actor, customer_ids: Iterable[int],
                               collector) -> int:
    """Give the selected customers one collector (None: nobody), all or none (credit managers)."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    customers = _customers(organization, customer_ids)
    for customer in customers:
        customer_dunning_set(organization=organization, actor=actor, customer=customer, collector=collector)
    return len(customers)


def _paused(organization: Organization, customers: list[Customer]) -> dict[int, str]:
    """Customers a bulk send leaves alone, and why: excluded from dunning, or every overdue invoice
    paused (open promise, active plan, dispute in full), as the daily run would. Three queries."""
    ids = [customer.pk for customer in customers]
    today = local_today(organization.timezone)
    excluded = set(CustomerDunning.objects.filter(organization=organization, customer_id__in=ids, excluded=True)
                   .values_list("customer_id", flat=True))
    overdue = set(open_invoices(organization).filter(customer_id__in=ids, due_date__lt=today)
                  .values_list("customer_id", flat=True))
    unpaused = set(selectors.unpaused_overdue_by_customer(organization, today))
    reasons = {pk: _("Excluded from dunning.") for pk in excluded}
    for pk in overdue - unpaused - excluded:
        reasons[pk] = _("Dunning is paused on its overdue invoices (promise to pay, payment plan or dispute).")
    return reasons


@dataclass
class ReminderOutcome:
    sent: list[Customer] = field(default_factory=list)
    skipped: list[tuple[Customer, str]] = field(default_factory=list)  # the customer and why


def customers_remind(*, organization: Organization, actor: Actor, customer_ids: Iterable[int],
                     batch: str) -> ReminderOutcome:
    """A one-off reminder to each selected customer, worded by its policy's step as the reminder page
    drafts it. A customer the reminder service refuses (no contact email, nothing open) is skipped
    and named. `batch` (one per form) keys each reminder, so posting the form twice sends once."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    if not BATCH_KEY.fullmatch(batch or ""):
        raise DomainError(_("The form has expired; open it again."))
    outcome = ReminderOutcome()
    customers = _customers(organization, customer_ids)
    owing = set(open_invoices(organization).filter(customer__in=customers).values_list("customer_id", flat=True))
    paused = _paused(organization, customers)
    for customer in customers:
        if customer.pk not in owing:
            outcome.skipped.append((customer, _("Nothing is open.")))
            continue
        if customer.pk in paused:
            outcome.skipped.append((customer, paused[customer.pk]))
            continue
        try:
            draft = reminder_draft(organization, customer)
            send_one_off(organization=organization, customer=customer, user=actor, step=draft.step,
                         subject=draft.subject, body=draft.text, language=draft.language,
                         key=f"bulk-{batch}-{customer.pk}")
        except DomainError as exc:
            outcome.skipped.append((customer, exc.message))
        else:
            outcome.sent.append(customer)
    return outcome
