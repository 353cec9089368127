"""Claims: drafted for a buyer's covered unpaid invoices with the expected indemnity computed step by
step, filed (before the claim-filing deadline), accepted or rejected by the insurer, paid — the
indemnity settles the invoices through the ledger as a recorded receipt and the uninsured rest may be
written off — and recoveries after payment shared with the insurer per the insured percentage.

Lock order: the claim row, then the ledger's own (payment, invoices by primary key), the audit chain last."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from receivables import services as ledger
from receivables.models import Customer, Invoice
from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Organization, Role
from tenancy.money import ZERO, Money, parse_amount, quantize
from tenancy.services import Actor, audit_record, role_require, same_organization_check

from .. import selectors
from ..connectors import InsurerError, connector_for
from ..models import Claim, ClaimInvoice, ClaimRecovery, ClaimStatus, Policy
from ._common import event

HUNDRED = Decimal(100)


class ClaimStateError(DomainError):
    code = ErrorCode.DUPLICATE  # a 409: the claim is not in the state this step needs


def _claim_event(organization: Organization, claim: Claim) -> None:
    event(organization, "insurance.claim_updated", {
        "claim": claim.pk, "status": claim.status, "policy": claim.policy_id, "customer": claim.customer_id,
        "currency": claim.currency, "expected_indemnity": str(claim.expected_indemnity),
        "accepted_amount": None if claim.accepted_amount is None else str(claim.accepted_amount),
        "paid_amount": None if claim.paid_amount is None else str(claim.paid_amount)})


def _lock(organization: Organization, claim: Claim, *, expected: Sequence[str]) -> Claim:
    same_organization_check(organization, claim)
    claim = (Claim.objects.select_for_update(of=("self",), no_key=True).select_related("policy", "customer")
             .get(pk=claim.pk, organization=organization))
    if claim.status not in expected:
        raise ClaimStateError(_("The claim is %(status)s; this needs it %(expected)s.")
                              % {"status": claim.get_status_display(),
                                 "expected": " / ".join(str(ClaimStatus(s).label) for s in expected)})
    return claim


def _compute(organization: Organization, claim: Claim, invoice_ids: list[int], as_of: dt.date) -> list:
    indemnity, rows = selectors.claim_preview(organization, policy=claim.policy, customer=claim.customer,
                                              invoice_ids=invoice_ids, as_of=as_of, recoveries=claim.recoveries)
    found = {row.invoice_id: row for row in rows}
    for invoice_id in invoice_ids:
        row = found.get(invoice_id)
        number = Invoice.objects.filter(pk=invoice_id).values_list("number", flat=True).first()
        if row is None:
            raise DomainError(_("Invoice %(number)s is not an open insured invoice of this buyer under the policy.")
                              % {"number": number}, field="invoices")
        if row.notified_on is None:
            raise DomainError(_("Invoice %(number)s was never notified to the insurer as overdue; notify it first.")
                              % {"number": number}, field="invoices")
        if row.state == selectors.DeadlineState.MISSED:
            raise DomainError(_("Invoice %(number)s: a deadline was missed; its cover is lost.")
                              % {"number": number}, field="invoices")
    currencies = {row.currency for row in rows}
    if len(currencies) > 1:
        raise DomainError(_("A claim's invoices share one currency."), code=ErrorCode.CURRENCY_MISMATCH,
                          field="invoices")
    claim.currency = currencies.pop()
    claim.outstanding = indemnity.outstanding
    claim.covered_loss = indemnity.covered_loss
    claim.expected_indemnity = indemnity.expected
    claim.computation = [step.as_json() for step in indemnity.steps]
    return rows


@transaction.atomic
def claim_create(*, organization: Organization, actor: Actor, policy: Policy, customer: Customer,
                 invoices: Sequence[Invoice], recoveries: Decimal | str = ZERO, as_of: dt.date | None = None) -> Claim:
    """Draft a claim for a buyer's notified, covered unpaid invoices (credit managers), with its
    expected indemnity and each step of it."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, policy, customer, *invoices)
    if not invoices:
        raise DomainError(_("Choose at least one invoice."), field="invoices")
    if any(invoice.customer_id != customer.pk for invoice in invoices):
        raise DomainError(_("Every invoice must be the buyer's."), code=ErrorCode.CUSTOMER_MISMATCH, field="invoices")
    invoice_ids = sorted({invoice.pk for invoice in invoices})
    taken = (ClaimInvoice.objects.filter(organization=organization, invoice_id__in=invoice_ids)
             .exclude(claim__status=ClaimStatus.REJECTED).values_list("invoice__number", flat=True).first())
    if taken:
        raise DomainError(_("Invoice %(number)s is in another claim already.") % {"number": taken},
                          code=ErrorCode.DUPLICATE, field="invoices")
    claim = Claim(organization=organization, policy=policy, customer=customer, created_by=actor,
                  recoveries=parse_amount(recoveries, field="recoveries", allow_zero=True))
    rows = _compute(organization, claim, invoice_ids, as_of or local_today(organization.timezone))
    claim.save()
    ClaimInvoice.objects.bulk_create([
        ClaimInvoice(organization=organization, claim=claim, invoice_id=row.invoice_id, outstanding=row.balance,
                     covered_amount=row.covered_amount, currency=row.currency) for row in rows])
    audit_record(organization=organization, actor=actor, action="insurance.claim_created", obj=claim,
                 after={"invoices": [row.invoice_number for row in rows], "outstanding": claim.outstanding,
                        "covered_loss": claim.covered_loss, "recoveries": claim.recoveries,
                        "expected_indemnity": claim.expected_indemnity, "currency": claim.currency})
    _claim_event(organization, claim)
    return claim


@transaction.atomic
def claim_file(*, organization: Organization, actor: Actor, claim: Claim, filed_on: dt.date | None = None) -> Claim:
    """File a draft claim with the insurer, its figures recomputed on the filing day; refused after an
    invoice's claim-filing deadline."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    claim = _lock(organization, claim, expected=[ClaimStatus.DRAFT])
    filed_on = filed_on or local_today(organization.timezone)
    lines = list(claim.lines.order_by("pk"))
    rows = _compute(organization, claim, [line.invoice_id for line in lines], filed_on)
    for row in rows:
        if filed_on > row.claim_by:
            raise DomainError(_("Invoice %(number)s: the claim had to be filed by %(date)s.")
                              % {"number": row.invoice_number, "date": row.claim_by}, field="filed_on")
    by_invoice = {row.invoice_id: row for row in rows}
    for line in lines:
        line.outstanding, line.covered_amount = by_invoice[line.invoice_id].balance, by_invoice[line.invoice_id].covered_amount
    ClaimInvoice.objects.bulk_update(lines, ["outstanding", "covered_amount"])
    try:
        reference = connector_for(claim.policy).claim_file({
            "policyNumber": claim.policy.policy_number, "claimId": claim.pk, "filedOn": filed_on,
            "buyer": {"name": claim.customer.legal_name or claim.customer.name, "country": claim.customer.country},
            "currency": claim.currency, "outstanding": str(claim.outstanding),
            "invoices": [{"number": r.invoice_number, "dueDate": r.due_date, "open": str(r.balance)} for r in rows]})
    except InsurerError as exc:
        raise DomainError(_("The insurer did not take the claim: %(error)s") % {"error": exc}) from None
    claim.status, claim.filed_on = ClaimStatus.FILED, filed_on
    claim.reference = (reference or claim.reference)[:100]
    claim.save()
    audit_record(organization=organization, actor=actor, action="insurance.claim_filed", obj=claim,
                 before={"status": ClaimStatus.DRAFT},
                 after={"status": claim.status, "filed_on": filed_on, "expected_indemnity": claim.expected_indemnity})
    _claim_event(organization, claim)
    return claim


@transaction.atomic
def claim_decide(*, organization: Organization, actor: Actor, claim: Claim, accepted: bool,
                 amount: Decimal | str | None = None, reason: str = "", decided_on: dt.date | None = None) -> Claim:
    """Record the insurer's answer to a filed claim: accepted (the indemnity it will pay, by default the
    expected one) or rejected (with its reason)."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    claim = _lock(organization, claim, expected=[ClaimStatus.FILED])
    decided_on = decided_on or local_today(organization.timezone)
    if decided_on < claim.filed_on:
        raise DomainError(_("The decision cannot come before the filing."), field="decided_on")
    before = {"status": claim.status}
    if accepted:
        claim.accepted_amount = claim.expected_indemnity if amount is None else parse_amount(
            amount, field="amount", allow_zero=True)
        claim.status = ClaimStatus.ACCEPTED
    else:
        if not reason.strip():
            raise DomainError(_("A rejection needs the insurer's reason."), field="reason")
        claim.rejection_reason, claim.status = reason.strip()[:500], ClaimStatus.REJECTED
    claim.decided_on = decided_on
    claim.save()
    audit_record(organization=organization, actor=actor, action="insurance.claim_decided", obj=claim, before=before,
                 after={"status": claim.status, "accepted_amount": claim.accepted_amount,
                        "rejection_reason": claim.rejection_reason, "decided_on": decided_on})
    _claim_event(organization, claim)
    return claim


@transaction.atomic
def claim_pay(*, organization: Organization, actor: Actor, claim: Claim, amount: Decimal | str,
              paid_on: dt.date | None = None, write_off_rest: bool = False) -> Claim:
    """The indemnity received: recorded as a receipt that settles the claim's invoices oldest due first;
    with `write_off_rest`, what stays open on them (the uninsured part) is written off."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    claim = _lock(organization, claim, expected=[ClaimStatus.ACCEPTED])
    amount = parse_amount(amount, field="amount")
    paid_on = paid_on or local_today(organization.timezone)
    invoices = list(Invoice.objects.filter(organization=organization, pk__in=claim.lines.values("invoice_id"))
                    .order_by("due_date", "issue_date", "pk"))
    open_total = sum((invoice.balance for invoice in invoices), ZERO)
    if amount > open_total:
        raise DomainError(_("The indemnity (%(amount)s) is more than the %(open)s open on the claim's invoices.")
                          % {"amount": Money(amount, claim.currency), "open": Money(open_total, claim.currency)},
                          code=ErrorCode.OVER_APPLICATION, field="amount")
    payment = ledger.payment_record(
        organization=organization, actor=actor, customer=claim.customer, received_on=paid_on, amount=amount,
        currency=claim.currency, method="other", reference=f"Indemnity {claim.policy.insurer_name} claim {claim.pk}"[:100],
        auto_allocate=False)
    plan, left = [], amount
    for invoice in invoices:
        take = min(left, invoice.balance)
        if take > 0:
            plan.append((invoice, take))
            left -= take
    ledger.payment_allocate(organization=organization, actor=actor, payment=payment, allocations=plan)
    written_off = []
    if write_off_rest:
        for invoice in Invoice.objects.filter(organization=organization, pk__in=[i.pk for i in invoices]).order_by("pk"):
            if invoice.balance > 0:
                ledger.invoice_write_off(organization=organization, actor=actor, invoice=invoice,
                                         reason=_("Uninsured part after the indemnity of claim %(claim)s") % {"claim": claim.pk},
                                         written_off_on=paid_on)
                written_off.append(invoice.number)
    claim.status, claim.paid_on, claim.paid_amount, claim.payment = ClaimStatus.PAID, paid_on, amount, payment
    claim.save()
    audit_record(organization=organization, actor=actor, action="insurance.claim_paid", obj=claim,
                 before={"status": ClaimStatus.ACCEPTED},
                 after={"status": claim.status, "paid_amount": amount, "paid_on": paid_on, "payment": payment.pk,
                        "written_off": written_off})
    _claim_event(organization, claim)
    return claim


@transaction.atomic
def claim_recovery_record(*, organization: Organization, actor: Actor, claim: Claim, amount: Decimal | str,
                          received_on: dt.date | None = None, note: str = "") -> ClaimRecovery:
    """Money recovered from the buyer after the indemnity: the insurer's share is the insured percentage
    of it (rounded half up), the rest is kept."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    claim = _lock(organization, claim, expected=[ClaimStatus.PAID])
    amount = parse_amount(amount, field="amount")
    received_on = received_on or local_today(organization.timezone)
    if received_on < claim.paid_on:
        raise DomainError(_("A recovery after the indemnity is dated on or after %(date)s.")
                          % {"date": claim.paid_on}, field="received_on")
    insurer_share = quantize(amount * claim.policy.insured_percentage / HUNDRED, claim.currency)
    recovery = ClaimRecovery.objects.create(
        organization=organization, claim=claim, received_on=received_on, amount=amount, insurer_share=insurer_share,
        policyholder_share=amount - insurer_share, currency=claim.currency, note=note[:300])
    audit_record(organization=organization, actor=actor, action="insurance.recovery_recorded", obj=recovery,
                 after={"claim": claim.pk, "amount": amount, "insurer_share": insurer_share,
                        "policyholder_share": recovery.policyholder_share, "received_on": received_on})
    _claim_event(organization, claim)
    return recovery
