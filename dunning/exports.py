"""Columns of the downloads of dunning's lists (disputes, promises to pay, payment plans): each
page's rows as CSV or XLSX through receivables' list export (receivables.views.lists.list_download),
amounts as numbers beside their currency."""

from __future__ import annotations

from django.utils.translation import gettext as _

from receivables.exports import Column, choice_labels, money_cell

from .models import DisputeReason, DisputeStatus, PlanStatus, PromiseStatus


def _invoices(obj) -> str:
    return ", ".join(sorted(invoice.number for invoice in obj.invoices.all()))  # prefetched by the selectors


def dispute_columns() -> list[Column]:
    """Rows are selectors.DisputeRow (the dispute, its age, whether it passed its resolve-by date)."""
    reasons, statuses = choice_labels(DisputeReason.choices), choice_labels(DisputeStatus.choices)
    return [
        Column(_("Customer"), lambda r: r.dispute.customer.name),
        Column(_("Invoice"), lambda r: r.dispute.invoice.number),
        Column(_("Reason"), lambda r: reasons.get(r.dispute.reason, r.dispute.reason)),
        Column(_("Status"), lambda r: statuses.get(r.dispute.status, r.dispute.status)),
        Column(_("Currency"), lambda r: r.dispute.currency),
        Column(_("Disputed amount"), lambda r: money_cell(r.dispute.amount, r.dispute.currency)),
        Column(_("Opened on"), lambda r: r.dispute.opened_on),
        Column(_("Resolve by"), lambda r: r.dispute.due_on),
        Column(_("Resolved on"), lambda r: r.dispute.resolved_on),
        Column(_("Age (days)"), lambda r: r.age_days),
        Column(_("Past its resolve-by date"), lambda r: _("Yes") if r.breached else _("No")),
        Column(_("Owner"), lambda r: r.dispute.owner.get_username() if r.dispute.owner else ""),
        Column(_("Description"), lambda r: r.dispute.description),
    ]


def promise_columns() -> list[Column]:
    statuses = choice_labels(PromiseStatus.choices)
    return [
        Column(_("Customer"), lambda p: p.customer.name),
        Column(_("Invoices"), _invoices),
        Column(_("Currency"), lambda p: p.currency),
        Column(_("Amount"), lambda p: money_cell(p.amount, p.currency)),
        Column(_("Promised date"), lambda p: p.promised_date),
        Column(_("Dunning paused until"), lambda p: p.pause_until),
        Column(_("Made on"), lambda p: p.made_on),
        Column(_("Status"), lambda p: statuses.get(p.status, p.status)),
        Column(_("Decided on"), lambda p: p.settled_on),
        Column(_("Notes"), lambda p: p.notes),
    ]


def plan_columns() -> list[Column]:
    statuses = choice_labels(PlanStatus.choices)
    return [
        Column(_("Customer"), lambda p: p.customer.name),
        Column(_("Invoices"), _invoices),
        Column(_("Currency"), lambda p: p.currency),
        Column(_("Covered balance"), lambda p: money_cell(p.covered_amount, p.currency)),
        Column(_("Interest"), lambda p: money_cell(p.interest_amount, p.currency)),
        Column(_("Total to pay"), lambda p: money_cell(p.total_amount, p.currency)),
        Column(_("Installments"), lambda p: len(p.installments.all())),
        Column(_("Agreed on"), lambda p: p.start_date),
        Column(_("Status"), lambda p: statuses.get(p.status, p.status)),
        Column(_("Ended on"), lambda p: p.ended_on),
    ]
