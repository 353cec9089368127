"""Declarations to the insurer: overdue notification (OVD), due-date extension (EXP) and rescheduling
(RES, a payment plan agreed with the insurer), pre-filled from the ledger and the dunning timeline and
kept with exactly what was sent (and its sha256)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from receivables.models import Customer, Invoice
from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization, Role
from tenancy.services import Actor, audit_record, jsonable, role_require, same_organization_check

from .. import selectors
from ..connectors import InsurerError, connector_for
from ..models import Declaration, DeclarationInvoice, DeclarationKind, Policy
from ._common import content_hash, event

INSURER_CODES = {DeclarationKind.OVERDUE: "OVD", DeclarationKind.EXTENSION: "EXP",
                 DeclarationKind.RESCHEDULING: "RES"}


def declaration_prefill(organization: Organization, *, policy: Policy, customer: Customer,
                        invoices: Sequence[Invoice], kind: str, notified_on: dt.date,
                        new_due_date: dt.date | None = None, payment_plan=None) -> dict[str, Any]:
    """What a declaration sends: the invoices as the ledger has them on the day, the reminders sent
    for them, the disputes and promises (read from dunning)."""
    from dunning.models import Dispute, DunningNotice, PromiseToPay

    rows = {r.invoice_id: r for r in selectors.insured_deadlines(organization, as_of=notified_on,
                                                                 customer_id=customer.pk)}
    ids = [invoice.pk for invoice in invoices]
    notices = (DunningNotice.objects.filter(organization=organization, invoice_id__in=ids)
               .select_related("invoice").order_by("created_at", "pk"))
    disputes = Dispute.objects.filter(organization=organization, invoice_id__in=ids).select_related("invoice")
    promises = (PromiseToPay.objects.filter(organization=organization, customer=customer, invoices__in=ids)
                .distinct().order_by("made_on", "pk"))
    content: dict[str, Any] = {
        "type": INSURER_CODES[kind], "kind": kind, "insurer": policy.insurer_name,
        "policy_number": policy.policy_number, "notified_on": notified_on,
        "buyer": {"name": customer.legal_name or customer.name, "country": customer.country,
                  "registration_number": customer.registration_number},
        "invoices": [{"number": i.number, "issue_date": i.issue_date, "due_date": i.due_date,
                      "total": str(i.total_amount), "currency": i.currency,
                      "open": str(rows[i.pk].balance) if i.pk in rows else None,
                      "days_overdue": max((notified_on - i.due_date).days, 0)} for i in invoices],
        "reminders": [{"date": n.created_at.date(), "invoice": n.invoice.number, "step_days": n.step_days,
                       "channel": n.channel} for n in notices],
        "disputes": [{"invoice": d.invoice.number, "amount": str(d.amount), "reason": d.reason, "status": d.status,
                      "opened_on": d.opened_on} for d in disputes],
        "promises": [{"made_on": p.made_on, "promised_date": p.promised_date, "amount": str(p.amount),
                      "status": p.status} for p in promises],
    }
    if new_due_date is not None:
        content["new_due_date"] = new_due_date
    if payment_plan is not None:
        content["payment_plan"] = {"id": payment_plan.pk, "agreed_on": payment_plan.start_date,
                                   "installments": [{"due_date": i.due_date, "amount": str(i.amount)}
                                                    for i in payment_plan.installments.all()]}
    return content


def _check(kind: str, rows: dict[int, selectors.DeadlineRow], invoices: Sequence[Invoice], notified_on: dt.date,
           new_due_date: dt.date | None) -> None:
    for invoice in invoices:
        row = rows.get(invoice.pk)
        if row is None:
            raise DomainError(_("Invoice %(number)s is not insured under this policy, or not open on %(date)s.")
                              % {"number": invoice.number, "date": notified_on}, field="invoices")
        if row.state == selectors.DeadlineState.MISSED:
            raise DomainError(_("Invoice %(number)s: the deadline passed on %(date)s; its cover is lost.")
                              % {"number": invoice.number, "date": row.notify_by}, field="invoices")
        if kind == DeclarationKind.OVERDUE and notified_on <= row.effective_due:
            raise DomainError(_("Invoice %(number)s is not overdue on %(date)s (due %(due)s).")
                              % {"number": invoice.number, "date": notified_on, "due": row.effective_due},
                              field="invoices")
        if kind == DeclarationKind.EXTENSION:
            if row.notified_on is not None:
                raise DomainError(_("Invoice %(number)s was notified as overdue; it can no longer be extended.")
                                  % {"number": invoice.number}, field="invoices")
            if not row.effective_due < new_due_date <= row.extend_until:
                raise DomainError(_("Invoice %(number)s can be extended to at most %(date)s.")
                                  % {"number": invoice.number, "date": row.extend_until}, field="new_due_date")


@transaction.atomic
def declaration_create(*, organization: Organization, actor: Actor, policy: Policy, customer: Customer,
                       kind: str, invoices: Sequence[Invoice], notified_on: dt.date | None = None,
                       new_due_date: dt.date | None = None, payment_plan=None, reference: str = "",
                       notes: str = "") -> Declaration:
    """Declare invoices to the insurer (collectors): checked against their deadlines, sent through the
    policy's connector, stored with the content sent."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, policy, customer, *invoices)
    if kind not in DeclarationKind.values:
        raise DomainError(_("Unknown declaration kind %(kind)s.") % {"kind": kind}, field="kind")
    invoices = sorted({i.pk: i for i in invoices}.values(), key=lambda i: (i.due_date, i.pk))
    if not invoices:
        raise DomainError(_("Choose at least one invoice."), field="invoices")
    if any(invoice.customer_id != customer.pk for invoice in invoices):
        raise DomainError(_("Every invoice must be the buyer's."), code=ErrorCode.CUSTOMER_MISMATCH, field="invoices")
    if kind == DeclarationKind.EXTENSION and new_due_date is None:
        raise DomainError(_("An extension needs the new due date."), field="new_due_date")
    if payment_plan is not None:
        same_organization_check(organization, payment_plan)
        if payment_plan.customer_id != customer.pk:
            raise DomainError(_("The payment plan is another customer's."), field="payment_plan")
    notified_on = notified_on or local_today(organization.timezone)
    if notified_on > local_today(organization.timezone):
        raise DomainError(_("A declaration cannot be dated in the future."), field="notified_on")
    rows = {r.invoice_id: r for r in selectors.insured_deadlines(organization, as_of=notified_on,
                                                                 customer_id=customer.pk)
            if r.policy_id == policy.pk}
    _check(kind, rows, invoices, notified_on, new_due_date)
    content = declaration_prefill(organization, policy=policy, customer=customer, invoices=invoices, kind=kind,
                                  notified_on=notified_on, new_due_date=new_due_date, payment_plan=payment_plan)
    try:
        sent_reference = connector_for(policy).overdue_declare(content)
    except InsurerError as exc:
        raise DomainError(_("The insurer did not take the declaration: %(error)s") % {"error": exc}) from None
    declaration = Declaration.objects.create(
        organization=organization, policy=policy, customer=customer, kind=kind, notified_on=notified_on,
        new_due_date=new_due_date, payment_plan=payment_plan, reference=(reference or sent_reference or "")[:100],
        notes=notes, content=jsonable(content), content_hash=content_hash(jsonable(content)), created_by=actor)
    DeclarationInvoice.objects.bulk_create([
        DeclarationInvoice(organization=organization, declaration=declaration, invoice=invoice,
                           due_date=rows[invoice.pk].effective_due, amount_due=rows[invoice.pk].balance,
                           currency=invoice.currency) for invoice in invoices])
    audit_record(organization=organization, actor=actor, action="insurance.declared", obj=declaration,
                 after={"kind": kind, "invoices": [i.number for i in invoices], "notified_on": notified_on,
                        "new_due_date": new_due_date, "content_sha256": declaration.content_hash})
    event(organization, "insurance.declared", {
        "declaration": declaration.pk, "kind": kind, "customer": customer.pk, "policy": policy.pk,
        "invoices": [i.pk for i in invoices], "notified_on": notified_on})
    return declaration
