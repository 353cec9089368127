"""Every write of factoring: facilities and sublimits, assignments (draft -> submitted -> funded ->
closed) and their approval, collections by the factor, the seller's own collections repaid,
repurchases, and the factor's statement import.

Keyword-only and atomic; roles are checked here (admins set facilities up, credit managers
propose and submit assignments, an admin approves a submission above the facility's threshold);
every change is audited. Row locks in the ledger's order: the facility, then invoices by primary
key (FOR NO KEY UPDATE), then our own lines; the audit chain last. An invoice in two live
assignments is impossible: the database refuses the second line (a partial unique index), and a
race for one invoice ends with one winner and a clear 409 for the other.

Settling an invoice from a factor's collection goes through the ledger's own payment services,
so the invoice's balance, status and events are the ledger's as for any payment."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from receivables import services as ledger
from receivables.models import Customer, Invoice
from tenancy.dates import local_today
from tenancy.db import rows_insert
from tenancy.errors import DomainError, ErrorCode, PermissionDenied
from tenancy.models import Membership, Organization, Role, role_covers
from tenancy.money import ZERO, Money, parse_amount, quantize, validate_currency
from tenancy.services import Actor, audit_record, model_check, role_require, same_organization_check

from . import figures, selectors
from .models import (
    Assignment,
    AssignmentLine,
    AssignmentStatus,
    Entry,
    EntryKind,
    Facility,
    FactorStatement,
    FactorStatementRow,
    LineState,
    Mode,
    Repurchase,
    RepurchaseReason,
    StatementRowKind,
    Sublimit,
)

FACILITY_FIELDS = ("name", "factor_name", "factor_bank_name", "factor_bank_account", "mode", "disclosed",
                   "collection_delegated", "recourse", "currency", "limit", "advance_rate", "fee_rate",
                   "interest_rate", "day_count", "max_days_past_due", "max_terms_days", "min_invoice_amount",
                   "concentration_limit", "cross_aging_rate", "cross_aging_days", "repurchase_after_days",
                   "approval_threshold", "valid_from", "valid_to")
RATE_FIELDS = ("advance_rate", "fee_rate", "interest_rate", "concentration_limit", "cross_aging_rate")
AMOUNT_FIELDS = ("limit", "min_invoice_amount", "approval_threshold")
ASSIGNMENT_BATCH = 2000
LINE_FIELDS = ("organization_id", "assignment_id", "facility_id", "invoice_id", "customer_id", "state", "assigned_on",
               "face", "advance", "fee", "collected", "interest", "reserve_released", "ended_on")


class AssignmentRefused(DomainError):
    """Some invoices cannot be assigned; `invoices` lists each with its reasons. Nothing was written.
    A conflict (409) when one is already assigned, else bad input (400)."""

    def __init__(self, invoices: list[dict[str, Any]]):
        self.invoices = invoices
        conflict = any(r["code"] == selectors.Reason.ALREADY_ASSIGNED for item in invoices for r in item["reasons"])
        names = ", ".join(f"{item['number']} ({', '.join(r['code'] for r in item['reasons'])})"
                          for item in invoices[:20])
        more = _(" and %(count)s more") % {"count": len(invoices) - 20} if len(invoices) > 20 else ""
        super().__init__(_("These invoices cannot be assigned: %(names)s%(more)s.") % {"names": names, "more": more},
                         code=ErrorCode.DUPLICATE if conflict else ErrorCode.INVALID, field="invoices")


class StatementInvalid(DomainError):
    """Rows of a factor statement are wrong; `rows` lists (row number, column, message). Nothing was written."""

    def __init__(self, rows: list[tuple[int, str, str]]):
        self.rows = rows
        super().__init__(_("%(count)s row(s) of the statement have errors; nothing was imported.")
                         % {"count": len(rows)}, code=ErrorCode.IMPORT_INVALID)


def _event(organization: Organization, type_: str, payload: dict[str, Any]) -> None:
    """A webhook event, when the platform announces this type (tenancy.webhooks.EVENT_TYPES)."""
    from tenancy import webhooks

    if type_ in webhooks.EVENT_TYPES:
        webhooks.event_emit(organization=organization, type=type_, payload=payload)


def _rate(raw: Any, field: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, float):
        raise DomainError(_("%(field)s: give rates as strings or decimals, not floats.") % {"field": field},
                          field=field)
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(_("%(field)s: %(value)s is not a number.") % {"field": field, "value": raw},
                          field=field) from None
    if not value.is_finite() or value < 0:
        raise DomainError(_("%(field)s: must be zero or more.") % {"field": field}, field=field)
    return value


def _facility_clean(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(fields)
    for name in RATE_FIELDS:
        if name in cleaned:
            cleaned[name] = _rate(cleaned[name], name)
    for name in AMOUNT_FIELDS:
        if name in cleaned and cleaned[name] not in (None, ""):
            cleaned[name] = parse_amount(cleaned[name], field=name, allow_zero=name != "limit")
        elif name in cleaned:
            cleaned[name] = None if name == "approval_threshold" else cleaned[name]
    if "currency" in cleaned:
        cleaned["currency"] = validate_currency(cleaned["currency"])
    return cleaned


def _facility_rules(facility: Facility) -> None:
    """The rules a CHECK constraint also holds, as clear messages before the database refuses."""
    if facility.advance_rate is None or not (ZERO < facility.advance_rate <= 1):
        raise DomainError(_("The advance rate must be more than 0 and at most 1 (e.g. 0.85)."), field="advance_rate")
    for name in ("fee_rate", "interest_rate"):
        value = getattr(facility, name)
        if value is None or not (ZERO <= value < 1):
            raise DomainError(_("%(field)s must be at least 0 and less than 1 (e.g. 0.012 for 1.2%%).")
                              % {"field": name}, field=name)
    for name in ("concentration_limit", "cross_aging_rate"):
        value = getattr(facility, name)
        if value is not None and not (ZERO < value <= 1):
            raise DomainError(_("%(field)s must be more than 0 and at most 1.") % {"field": name}, field=name)
    if facility.mode == Mode.DISCOUNTING and facility.disclosed:
        raise DomainError(_("Invoice discounting is never disclosed to customers."), field="disclosed")
    if facility.collection_delegated and not facility.disclosed:
        raise DomainError(_("Only a disclosed facility can delegate collection to the seller."),
                          field="collection_delegated")
    if facility.valid_to is not None and facility.valid_to < facility.valid_from:
        raise DomainError(_("The facility cannot end before it starts."), field="valid_to")
    if facility.day_count not in (360, 365):
        raise DomainError(_("The day count is 360 or 365."), field="day_count")


def _snapshot(facility: Facility) -> dict[str, Any]:
    return {name: getattr(facility, name) for name in FACILITY_FIELDS}


@transaction.atomic
def facility_create(*, organization: Organization, actor: Actor, excluded_customers: Sequence[Customer] = (),
                    **fields: Any) -> Facility:
    """Set up a facility (admins): factor, bank account, mode, rates, limits and eligibility rules."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    unknown = set(fields) - set(FACILITY_FIELDS)
    if unknown:
        raise DomainError(_("Unknown facility fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    fields = _facility_clean(fields)
    fields.setdefault("valid_from", local_today(organization.timezone))
    if Facility.objects.filter(organization=organization, name=fields.get("name", "")).exists():
        raise DomainError(_("A facility named %(name)s already exists.") % {"name": fields["name"]},
                          code=ErrorCode.DUPLICATE, field="name")
    facility = Facility(organization=organization, **fields)
    _facility_rules(facility)
    model_check(facility, exclude=("organization",))
    facility.save()
    if excluded_customers:
        same_organization_check(organization, *excluded_customers)
        facility.excluded_customers.set(excluded_customers)
    audit_record(organization=organization, actor=actor, action="factoring.facility_created", obj=facility,
                 after={**_snapshot(facility), "excluded_customers": sorted(c.pk for c in excluded_customers)})
    return facility


@transaction.atomic
def facility_update(*, organization: Organization, actor: Actor, facility: Facility,
                    excluded_customers: Sequence[Customer] | None = None, **changes: Any) -> Facility:
    """Change a facility's terms or rules (admins); audited with before and after."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    same_organization_check(organization, facility)
    unknown = set(changes) - set(FACILITY_FIELDS)
    if unknown:
        raise DomainError(_("Unknown facility fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    changes = _facility_clean(changes)
    facility = Facility.objects.select_for_update(no_key=True).get(pk=facility.pk)
    if "currency" in changes and changes["currency"] != facility.currency and \
            AssignmentLine.objects.filter(facility=facility).exists():
        raise DomainError(_("The facility has assignments; its currency cannot change."), field="currency")
    before = {name: getattr(facility, name) for name in changes}
    for name, value in changes.items():
        setattr(facility, name, value)
    _facility_rules(facility)
    model_check(facility, exclude=("organization",))
    facility.save()
    after = dict(changes)
    if excluded_customers is not None:
        same_organization_check(organization, *excluded_customers)
        before["excluded_customers"] = sorted(facility.excluded_customers.values_list("pk", flat=True))
        facility.excluded_customers.set(excluded_customers)
        after["excluded_customers"] = sorted(c.pk for c in excluded_customers)
    audit_record(organization=organization, actor=actor, action="factoring.facility_updated", obj=facility,
                 before=before, after=after)
    return facility


@transaction.atomic
def sublimit_set(*, organization: Organization, actor: Actor, facility: Facility, customer: Customer,
                 limit: Any | None) -> Sublimit | None:
    """Set (or remove, with None) the most the facility finances of one customer (admins)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    same_organization_check(organization, facility, customer)
    existing = Sublimit.objects.filter(facility=facility, customer=customer).first()
    before = {"limit": existing.limit if existing else None}
    if limit in (None, ""):
        if existing:
            existing.delete()
        audit_record(organization=organization, actor=actor, action="factoring.sublimit_set", obj=facility,
                     before=before, after={"customer": customer.pk, "limit": None})
        return None
    value = parse_amount(limit, field="limit", allow_zero=True)
    sublimit, _created = Sublimit.objects.update_or_create(facility=facility, customer=customer,
                                                           defaults={"organization": organization, "limit": value})
    audit_record(organization=organization, actor=actor, action="factoring.sublimit_set", obj=facility,
                 before=before, after={"customer": customer.pk, "limit": value})
    return sublimit


# --- assignments ---------------------------------------------------------------------------

def _number_assign(assignment: Assignment) -> None:
    """ASG-<id>: unique without a counter two requests could read alike (the id is the database's)."""
    assignment.number = f"ASG-{assignment.pk:05d}"
    Assignment.objects.filter(pk=assignment.pk).update(number=assignment.number)


def _lock_facility(facility: Facility) -> Facility:
    return Facility.objects.select_for_update(no_key=True).get(pk=facility.pk)


def _lock_invoices(organization: Organization, ids: Iterable[int]) -> None:
    list(Invoice.objects.select_for_update(of=("self",), no_key=True)
         .filter(organization=organization, pk__in=list(ids)).order_by("pk").values_list("pk", flat=True))


def _refusals(rows: Iterable[selectors.EligibilityRow]) -> list[dict[str, Any]]:
    return [{"invoice": row.invoice_id, "number": row.number, "reasons": row.reason_messages()} for row in rows]


@transaction.atomic
def assignment_create(*, organization: Organization, actor: Actor, facility: Facility, invoices: Sequence[Any],
                      assigned_on: dt.date) -> Assignment:
    """A draft assignment of `invoices` (ids or Invoice rows) to the facility on `assigned_on`,
    one line per invoice with its face value (open balance), advance and fee. Every invoice must
    be eligible on that date; otherwise AssignmentRefused names each one and its reasons."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, facility)
    ids = [invoice if isinstance(invoice, int) else invoice.pk for invoice in invoices]
    if not ids:
        raise DomainError(_("Choose at least one invoice."), field="invoices")
    if len(set(ids)) != len(ids):
        raise DomainError(_("An invoice is listed twice."), field="invoices")
    facility = _lock_facility(facility)
    if not facility.is_valid_on(assigned_on):
        raise DomainError(_("The facility is not valid on %(date)s.") % {"date": assigned_on.isoformat()},
                          field="assigned_on")
    _lock_invoices(organization, ids)
    result = selectors.eligibility(organization, facility, assigned_on, invoice_ids=ids)
    found = {row.invoice_id: row for row in result.rows}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        numbers = dict(Invoice.objects.filter(organization=organization, pk__in=missing).values_list("pk", "number"))
        refused = [{"invoice": pk, "number": numbers.get(pk, str(pk)),
                    "reasons": [{"code": "not_open", "message": str(_("Not an open invoice on that date."))
                                 if pk in numbers else str(_("Not found."))}]} for pk in missing]
        raise AssignmentRefused(refused + _refusals(row for row in result.rows if not row.eligible))
    refused_rows = [row for row in result.rows if not row.eligible]
    if refused_rows:
        raise AssignmentRefused(_refusals(refused_rows))
    currency = facility.currency
    fee_rate = facility.fee_rate
    planned = [(row.invoice_id, row.customer_id, row.balance, row.advance_amount,
                figures.fee_of(row.balance, fee_rate, currency)) for row in result.rows]
    assignment = Assignment.objects.create(
        organization=organization, facility=facility, number=uuid.uuid4().hex, currency=currency,
        assigned_on=assigned_on, created_by=actor if getattr(actor, "pk", None) else None,
        face_total=sum((face for _i, _c, face, _a, _f in planned), ZERO),
        advance_total=sum((advance for _i, _c, _face, advance, _f in planned), ZERO),
        fee_total=sum((fee for _i, _c, _face, _a, fee in planned), ZERO))
    _number_assign(assignment)
    try:
        with transaction.atomic():
            # Rows straight to the table (COPY on PostgreSQL): 10,000 invoices in one request.
            rows_insert(AssignmentLine, LINE_FIELDS, [
                (organization.pk, assignment.pk, facility.pk, invoice_id, customer_id, LineState.ASSIGNED, assigned_on,
                 face, advance, fee, ZERO, ZERO, ZERO, None)
                for invoice_id, customer_id, face, advance, fee in planned], batch_size=ASSIGNMENT_BATCH)
    except Exception as exc:  # the database's own refusal of a second live line (a race lost)
        if "assignment_line_one_live_per_invoice" not in str(exc):
            raise
        taken = (AssignmentLine.objects.filter(invoice_id__in=ids, state=LineState.ASSIGNED)
                 .values_list("invoice_id", "invoice__number", "assignment_id"))
        raise AssignmentRefused([{"invoice": pk, "number": number, "reasons": [
            {"code": selectors.Reason.ALREADY_ASSIGNED,
             "message": str(selectors.REASON_TEXT[selectors.Reason.ALREADY_ASSIGNED]) % {"assignment": other}}]}
            for pk, number, other in taken] or [{"invoice": ids[0], "number": str(ids[0]), "reasons": [
                {"code": selectors.Reason.ALREADY_ASSIGNED, "message": str(exc)}]}]) from None
    # One entry holds the whole schedule: every invoice with its face value, advance and fee.
    audit_record(organization=organization, actor=actor, action="factoring.assignment_created", obj=assignment,
                 after={"number": assignment.number, "facility": facility.pk, "assigned_on": assigned_on,
                        "currency": currency, "face": assignment.face_total, "advance": assignment.advance_total,
                        "fee": assignment.fee_total,
                        "lines": [[invoice_id, face, advance, fee] for invoice_id, _c, face, advance, fee in planned]})
    _event(organization, "factoring.assignment_created", {"id": assignment.pk, "number": assignment.number})
    return assignment


def _lock_assignment(organization: Organization, assignment: Assignment) -> Assignment:
    same_organization_check(organization, assignment)
    _lock_facility(assignment.facility)
    return Assignment.objects.select_for_update(no_key=True).select_related("facility").get(pk=assignment.pk)


def _is_admin(organization: Organization, actor: Actor) -> bool:
    if actor is None:
        return False
    held = Membership.objects.filter(organization=organization, user_id=actor.pk).values_list("role", flat=True).first()
    return held is not None and role_covers(held, Role.ADMIN)


def _status_require(assignment: Assignment, *statuses: str) -> None:
    if assignment.status not in statuses:
        raise DomainError(_("Assignment %(number)s is %(status)s.")
                          % {"number": assignment.number, "status": assignment.get_status_display().lower()},
                          code=ErrorCode.INVOICE_NOT_OPEN, field="status")


@transaction.atomic
def assignment_submit(*, organization: Organization, actor: Actor, assignment: Assignment) -> Assignment:
    """Send a draft to the factor (credit managers). Above the facility's approval threshold it
    waits for an admin's approval before it can be funded (an admin's own submission is approved)."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    assignment = _lock_assignment(organization, assignment)
    _status_require(assignment, AssignmentStatus.DRAFT)
    threshold = assignment.facility.approval_threshold
    needs = threshold is not None and assignment.face_total > threshold
    now = timezone.now()
    assignment.status, assignment.submitted_at = AssignmentStatus.SUBMITTED, now
    assignment.submitted_by = actor if getattr(actor, "pk", None) else None
    assignment.approval_required = needs
    if not needs or _is_admin(organization, actor):
        assignment.approved_at, assignment.approved_by = now, assignment.submitted_by
    assignment.save()
    audit_record(organization=organization, actor=actor, action="factoring.assignment_submitted", obj=assignment,
                 before={"status": AssignmentStatus.DRAFT},
                 after={"status": assignment.status, "approval_required": needs,
                        "approved": assignment.approved_at is not None})
    return assignment


@transaction.atomic
def assignment_approve(*, organization: Organization, actor: Actor, assignment: Assignment) -> Assignment:
    """An admin approves a submission above the facility's threshold (a person, not an API key;
    not the person who submitted it)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    if actor is None:
        raise PermissionDenied(_("An admin signed in must approve; an API key cannot."))
    assignment = _lock_assignment(organization, assignment)
    _status_require(assignment, AssignmentStatus.SUBMITTED)
    if assignment.approved_at is not None:
        raise DomainError(_("Assignment %(number)s is already approved.") % {"number": assignment.number},
                          code=ErrorCode.INVOICE_NOT_OPEN)
    if assignment.submitted_by_id == actor.pk:
        raise PermissionDenied(_("The person who submitted an assignment cannot approve it."))
    assignment.approved_at, assignment.approved_by = timezone.now(), actor
    assignment.save(update_fields=["approved_at", "approved_by", "updated_at"])
    audit_record(organization=organization, actor=actor, action="factoring.assignment_approved", obj=assignment,
                 after={"face": assignment.face_total})
    return assignment


@transaction.atomic
def assignment_cancel(*, organization: Organization, actor: Actor, assignment: Assignment) -> Assignment:
    """Drop an assignment that was not funded: its invoices are free again."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    assignment = _lock_assignment(organization, assignment)
    _status_require(assignment, AssignmentStatus.DRAFT, AssignmentStatus.SUBMITTED)
    day = max(local_today(organization.timezone), assignment.assigned_on)
    AssignmentLine.objects.filter(assignment=assignment).update(state=LineState.CANCELLED, ended_on=day)
    before = assignment.status
    assignment.status = AssignmentStatus.CANCELLED
    assignment.save(update_fields=["status", "updated_at"])
    audit_record(organization=organization, actor=actor, action="factoring.assignment_cancelled", obj=assignment,
                 before={"status": before}, after={"status": assignment.status})
    return assignment


@transaction.atomic
def assignment_fund(*, organization: Organization, actor: Actor, assignment: Assignment, funded_on: dt.date,
                    amount_received: Any, fee_deducted: Any = None, interest_deducted: Any = "0") -> Assignment:
    """Record the factor's payment of the advances: the amount received plus the fee and the
    interest it deducted must equal the assignment's advances."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    assignment = _lock_assignment(organization, assignment)
    _status_require(assignment, AssignmentStatus.SUBMITTED)
    if assignment.approved_at is None:
        raise PermissionDenied(_("Assignment %(number)s waits for an admin's approval.")
                               % {"number": assignment.number})
    if funded_on < assignment.assigned_on:
        raise DomainError(_("Funding cannot come before the assignment date."), field="funded_on")
    currency = assignment.currency
    received = parse_amount(amount_received, field="amount_received", allow_zero=True)
    fee = assignment.fee_total if fee_deducted in (None, "") else parse_amount(fee_deducted, field="fee_deducted",
                                                                             allow_zero=True)
    interest = parse_amount(interest_deducted or "0", field="interest_deducted", allow_zero=True)
    if received + fee + interest != assignment.advance_total:
        raise DomainError(
            _("Received %(received)s + fee %(fee)s + interest %(interest)s must equal the advances of %(advance)s.")
            % {"received": Money(received, currency), "fee": Money(fee, currency),
               "interest": Money(interest, currency), "advance": Money(assignment.advance_total, currency)},
            field="amount_received")
    assignment.status, assignment.funded_on = AssignmentStatus.FUNDED, funded_on
    assignment.amount_received, assignment.fee_deducted, assignment.interest_deducted = received, fee, interest
    assignment.save()
    facility = assignment.facility
    lines = list(AssignmentLine.objects.filter(assignment=assignment, state=LineState.ASSIGNED).order_by("pk"))
    entries = []
    for line in lines:
        entries.append(Entry(organization=organization, facility=facility, assignment=assignment, line=line,
                             kind=EntryKind.ADVANCE, entry_date=funded_on, amount=line.advance, currency=currency))
        if line.fee:
            entries.append(Entry(organization=organization, facility=facility, assignment=assignment, line=line,
                                 kind=EntryKind.FEE, entry_date=funded_on, amount=line.fee, currency=currency))
    if fee != assignment.fee_total:  # the factor charged another fee than the schedule's
        entries.append(Entry(organization=organization, facility=facility, assignment=assignment,
                             kind=EntryKind.FEE, entry_date=funded_on, amount=fee - assignment.fee_total,
                             currency=currency, reference="funding"))
    if interest:
        entries.append(Entry(organization=organization, facility=facility, assignment=assignment,
                             kind=EntryKind.INTEREST, entry_date=funded_on, amount=interest, currency=currency,
                             reference="funding"))
    Entry.objects.bulk_create(entries, batch_size=ASSIGNMENT_BATCH)
    audit_record(organization=organization, actor=actor, action="factoring.assignment_funded", obj=assignment,
                 before={"status": AssignmentStatus.SUBMITTED},
                 after={"status": assignment.status, "funded_on": funded_on, "amount_received": received,
                        "fee_deducted": fee, "interest_deducted": interest})
    _event(organization, "factoring.assignment_funded", {"id": assignment.pk, "number": assignment.number,
                                                         "funded_on": funded_on, "amount_received": received,
                                                         "currency": currency})
    return assignment


def _close_if_done(organization: Organization, actor: Actor, assignment: Assignment, day: dt.date) -> None:
    if assignment.status != AssignmentStatus.FUNDED:
        return
    if AssignmentLine.objects.filter(assignment=assignment, state=LineState.ASSIGNED).exists():
        return
    last = AssignmentLine.objects.filter(assignment=assignment).aggregate(d=Max("ended_on"))["d"] or day
    assignment.status, assignment.closed_on = AssignmentStatus.CLOSED, max(last, day, assignment.funded_on)
    assignment.save(update_fields=["status", "closed_on", "updated_at"])
    audit_record(organization=organization, actor=actor, action="factoring.assignment_closed", obj=assignment,
                 after={"closed_on": assignment.closed_on})


def _lock_line(organization: Organization, line: AssignmentLine) -> AssignmentLine:
    same_organization_check(organization, line)
    _lock_facility(line.facility)
    _lock_invoices(organization, [line.invoice_id])
    return (AssignmentLine.objects.select_for_update(of=("self",), no_key=True)
            .select_related("assignment", "facility", "invoice", "customer").get(pk=line.pk))


def _line_repayments(line: AssignmentLine) -> list[tuple[dt.date, Decimal]]:
    return [(day, -amount) for day, amount in Entry.objects.filter(line=line, kind=EntryKind.ADVANCE_REPAID)
            .values_list("entry_date", "amount")]


def _posted(line: AssignmentLine, kind: str) -> Decimal:
    return Entry.objects.filter(line=line, kind=kind).aggregate(s=Sum("amount"))["s"] or ZERO


def _line_interest(line: AssignmentLine, end: dt.date) -> Decimal:
    facility = line.facility
    return figures.interest_of(line.advance, rate=facility.interest_rate, day_count=facility.day_count,
                               start=line.assignment.funded_on, end=end, repayments=_line_repayments(line),
                               currency=facility.currency)


def _entry(line: AssignmentLine, kind: str, day: dt.date, amount: Decimal, **extra: Any) -> Entry:
    return Entry.objects.create(organization_id=line.organization_id, facility=line.facility,
                                assignment=line.assignment, line=line, kind=kind, entry_date=day, amount=amount,
                                currency=line.facility.currency, **extra)


def _line_end(organization: Organization, actor: Actor, line: AssignmentLine, day: dt.date, *,
              release: bool, statement: FactorStatement | None = None) -> None:
    """Post what ends a line's financing on `day`: the interest not yet charged and, when the
    invoice was collected, the reserve released to the seller."""
    interest_due = _line_interest(line, day)
    charged = _posted(line, EntryKind.INTEREST)
    if interest_due > charged:
        _entry(line, EntryKind.INTEREST, day, interest_due - charged, statement=statement)
    line.interest = max(interest_due, charged)
    if release:
        fees = _posted(line, EntryKind.FEE)
        released = line.collected - line.advance - fees - line.interest
        line.reserve_released = released
        if released:
            _entry(line, EntryKind.RESERVE_RELEASE, day, released, statement=statement)
    line.ended_on = max(day, line.assigned_on)


@transaction.atomic
def collection_record(*, organization: Organization, actor: Actor, line: AssignmentLine, collected_on: dt.date,
                      amount: Any, reference: str = "", statement: FactorStatement | None = None,
                      by_factor: bool = True):
    """The factor collected `amount` of an assigned invoice (disclosed: the customer paid the
    factor; non-recourse insolvency: the factor settles it). The invoice is settled through the
    ledger's payment services; the collection repays the advance first; once the face value is
    collected the interest is posted and the reserve (face - advance - fee - interest) released."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    line = _lock_line(organization, line)
    if line.state != LineState.ASSIGNED:
        raise DomainError(_("Invoice %(number)s is no longer assigned.") % {"number": line.invoice.number},
                          code=ErrorCode.INVOICE_NOT_OPEN)
    if line.assignment.status != AssignmentStatus.FUNDED:
        raise DomainError(_("Assignment %(number)s is not funded yet.") % {"number": line.assignment.number},
                          code=ErrorCode.INVOICE_NOT_OPEN)
    amount = parse_amount(amount)
    currency = line.facility.currency
    if collected_on < line.assignment.funded_on:
        raise DomainError(_("A collection cannot come before the funding."), field="collected_on")
    if line.collected + amount > line.face:
        raise DomainError(_("Only %(left)s of invoice %(number)s is left to collect.")
                          % {"left": Money(line.face - line.collected, currency), "number": line.invoice.number},
                          code=ErrorCode.OVER_APPLICATION, field="amount")
    invoice = line.invoice
    payment = None
    settle = min(amount, invoice.total_amount - invoice.applied_amount)
    if settle > 0:
        payment = ledger.payment_record(
            organization=organization, actor=actor, customer=line.customer, received_on=collected_on, amount=settle,
            currency=currency, reference=(reference or _("Collected by %(factor)s") % {
                "factor": line.facility.factor_name})[:100], auto_allocate=False)
        ledger.payment_allocate(organization=organization, actor=actor, payment=payment, allocations=[(invoice, settle)])
    outstanding_advance = line.advance + sum((-a for _d, a in _line_repayments(line)), ZERO)
    _entry(line, EntryKind.COLLECTION, collected_on, amount, reference=reference[:100], statement=statement)
    repaid = min(amount, max(ZERO, outstanding_advance))
    if repaid:
        _entry(line, EntryKind.ADVANCE_REPAID, collected_on, -repaid, statement=statement)
    line.collected += amount
    done = line.collected >= line.face
    if done:
        _line_end(organization, actor, line, collected_on, release=True, statement=statement)
        line.state = LineState.COLLECTED
    line.save()
    audit_record(organization=organization, actor=actor, action="factoring.collection_recorded", obj=line,
                 after={"invoice": invoice.number, "collected_on": collected_on, "amount": amount,
                        "by_factor": by_factor, "payment": payment.pk if payment else None,
                        "collected": line.collected, "interest": line.interest,
                        "reserve_released": line.reserve_released if done else None})
    if done:
        _close_if_done(organization, actor, line.assignment, collected_on)
        _event(organization, "factoring.reserve_released", {"invoice": invoice.pk, "number": invoice.number,
                                                            "amount": quantize(line.reserve_released, currency),
                                                            "currency": currency})
    return line


@transaction.atomic
def seller_collections_settle(*, organization: Organization, actor: Actor, facility: Facility,
                              as_of: dt.date | None = None) -> int:
    """Silent factoring, discounting or delegated collection: the customer paid the seller. For
    each live line whose invoice is settled in the ledger, the seller repays the advance and the
    interest to the day of the last payment, and the line ends. Returns how many lines ended.
    Safe to run twice."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, facility)
    facility = _lock_facility(facility)
    if not facility.customer_collects:
        return 0
    as_of = as_of or local_today(organization.timezone)
    candidates = list(AssignmentLine.objects.filter(
        organization=organization, facility=facility, state=LineState.ASSIGNED,
        assignment__status=AssignmentStatus.FUNDED, invoice__applied_amount__gte=F("invoice__total_amount"))
        .order_by("pk").values_list("pk", flat=True))
    ended = 0
    for pk in candidates:
        line = _lock_line(organization, AssignmentLine.objects.select_related("facility").get(pk=pk))
        paid_on = line.invoice.allocations.aggregate(d=Max("applied_on"))["d"] or as_of
        if paid_on > as_of:
            continue
        paid_on = max(paid_on, line.assignment.funded_on)
        outstanding = line.advance + sum((-a for _d, a in _line_repayments(line)), ZERO)
        if outstanding:
            _entry(line, EntryKind.ADVANCE_REPAID, paid_on, -outstanding)
        line.collected = line.face
        _line_end(organization, actor, line, paid_on, release=True)
        line.state = LineState.COLLECTED
        line.save()
        audit_record(organization=organization, actor=actor, action="factoring.advance_repaid", obj=line,
                     after={"invoice": line.invoice.number, "repaid_on": paid_on, "advance": outstanding,
                            "interest": line.interest})
        _close_if_done(organization, actor, line.assignment, paid_on)
        ended += 1
    return ended


@transaction.atomic
def line_repurchase(*, organization: Organization, actor: Actor, line: AssignmentLine, repurchased_on: dt.date,
                    reason: str = RepurchaseReason.MANUAL, note: str = "",
                    statement: FactorStatement | None = None) -> Repurchase:
    """Take an assigned invoice back (recourse): a dated reversal of its assignment. The seller
    repays the advance still outstanding plus the interest to that day; the invoice is the
    seller's again (dunning resumes) and may be assigned again."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    line = _lock_line(organization, line)
    if line.state != LineState.ASSIGNED:
        raise DomainError(_("Invoice %(number)s is no longer assigned.") % {"number": line.invoice.number},
                          code=ErrorCode.INVOICE_NOT_OPEN)
    if not line.facility.recourse:
        raise DomainError(_("Facility %(name)s is without recourse: the factor bears the loss; record the "
                            "factor's settlement instead.") % {"name": line.facility.name}, field="line")
    if line.assignment.status != AssignmentStatus.FUNDED:
        raise DomainError(_("Only a funded assignment's invoices are repurchased; cancel the draft instead."),
                          code=ErrorCode.INVOICE_NOT_OPEN)
    if repurchased_on < line.assignment.funded_on:
        raise DomainError(_("A repurchase cannot come before the funding."), field="repurchased_on")
    outstanding = line.advance + sum((-a for _d, a in _line_repayments(line)), ZERO)
    if outstanding:
        _entry(line, EntryKind.ADVANCE_REPAID, repurchased_on, -outstanding, statement=statement)
    _entry(line, EntryKind.REPURCHASE, repurchased_on, line.face - line.collected, statement=statement)
    _line_end(organization, actor, line, repurchased_on, release=False, statement=statement)
    line.state = LineState.REPURCHASED
    line.save()
    repurchase = Repurchase.objects.create(organization=organization, line=line, repurchased_on=repurchased_on,
                                           reason=reason, advance_repaid=outstanding, interest=line.interest,
                                           note=note[:300], actor=actor if getattr(actor, "pk", None) else None)
    audit_record(organization=organization, actor=actor, action="factoring.invoice_repurchased", obj=repurchase,
                 before={"state": LineState.ASSIGNED},
                 after={"invoice": line.invoice.number, "repurchased_on": repurchased_on, "reason": reason,
                        "advance_repaid": outstanding, "interest": line.interest})
    _close_if_done(organization, actor, line.assignment, repurchased_on)
    _event(organization, "factoring.invoice_repurchased", {"invoice": line.invoice_id, "number": line.invoice.number,
                                                           "repurchased_on": repurchased_on, "reason": reason})
    return repurchase


def repurchases_due(organization: Organization, today: dt.date) -> list[AssignmentLine]:
    """Live funded lines of recourse facilities whose invoice is unpaid more than the facility's
    repurchase days after its due date."""
    lines = (AssignmentLine.objects.filter(organization=organization, state=LineState.ASSIGNED,
                                           facility__recourse=True, facility__repurchase_after_days__isnull=False,
                                           assignment__status=AssignmentStatus.FUNDED)
             .select_related("invoice", "facility").order_by("pk"))
    return [line for line in lines
            if line.invoice.balance > 0
            and (today - line.invoice.due_date).days > line.facility.repurchase_after_days]


def repurchases_run(*, organization: Organization, today: dt.date | None = None) -> int:
    """The automatic repurchase (system actor), one transaction per invoice; safe to run twice."""
    today = today or local_today(organization.timezone)
    done = 0
    for line in repurchases_due(organization, today):
        try:
            line_repurchase(organization=organization, actor=None, line=line, repurchased_on=today,
                            reason=RepurchaseReason.OVERDUE)
        except DomainError:
            continue  # ended meanwhile (collected, repurchased by hand)
        done += 1
    return done


# --- the factor's statement ----------------------------------------------------------------

STATEMENT_COLUMNS = ("date", "type", "invoice", "amount", "reference")


def _parse_date(raw: str) -> dt.date:
    return dt.date.fromisoformat(raw.strip())


def statement_parse(*, organization: Organization, facility: Facility, content: bytes
                    ) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a statement CSV (date, type, invoice, amount, reference) matched to the facility's
    live lines; StatementInvalid with every row's errors (row number, column, message)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StatementInvalid([(0, "file", _("The file is not UTF-8 text."))]) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in STATEMENT_COLUMNS[:4] if c not in header]
    if missing:
        raise StatementInvalid([(1, c, _("Missing column %(column)s.") % {"column": c}) for c in missing])
    raw_rows = []
    number = 1
    try:
        for number, raw in enumerate(reader, start=2):
            if None in raw:  # csv puts values beyond the header under None, as a list
                raise StatementInvalid([(number, "file", _("The row has more values than the header has columns."))])
            raw_rows.append((number, {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}))
    except csv.Error:
        raise StatementInvalid([(number + 1, "file", _("The file is not a readable CSV."))]) from None
    if not raw_rows:
        raise StatementInvalid([(1, "file", _("The statement has no rows."))])
    numbers = {raw["invoice"] for _n, raw in raw_rows}
    invoices = {inv.number: inv for inv in Invoice.objects.filter(organization=organization, number__in=numbers)}
    lines = {line.invoice_id: line for line in AssignmentLine.objects.filter(
        organization=organization, facility=facility, state=LineState.ASSIGNED,
        invoice__in=[inv.pk for inv in invoices.values()]).select_related("assignment")}
    errors: list[tuple[int, str, str]] = []
    parsed = []
    collected: dict[int, Decimal] = {}
    for number, raw in raw_rows:
        row_errors = []
        kind = raw.get("type", "").lower()
        if kind not in StatementRowKind.values:
            row_errors.append((number, "type", _("Unknown type %(type)s (collection, fee, interest, repurchase).")
                               % {"type": raw.get("type", "")}))
        try:
            day = _parse_date(raw.get("date", ""))
        except ValueError:
            row_errors.append((number, "date", _("%(value)s is not a date (YYYY-MM-DD).") % {"value": raw.get("date")}))
            day = None
        try:
            amount = parse_amount(raw.get("amount", ""), field="amount", allow_zero=kind == StatementRowKind.REPURCHASE)
        except DomainError as exc:
            row_errors.append((number, "amount", exc.message))
            amount = None
        invoice = invoices.get(raw.get("invoice", ""))
        line = lines.get(invoice.pk) if invoice else None
        if invoice is None:
            row_errors.append((number, "invoice", _("No invoice %(number)s.") % {"number": raw.get("invoice")}))
        elif line is None:
            row_errors.append((number, "invoice", _("Invoice %(number)s is not assigned to this facility.")
                               % {"number": invoice.number}))
        elif line.assignment.status != AssignmentStatus.FUNDED:
            row_errors.append((number, "invoice", _("Invoice %(number)s is in an assignment not funded yet.")
                               % {"number": invoice.number}))
        if not row_errors and kind == StatementRowKind.COLLECTION:
            so_far = collected.get(line.pk, line.collected) + amount
            if so_far > line.face:
                row_errors.append((number, "amount", _("Collections of %(number)s would pass its face value %(face)s.")
                                   % {"number": invoice.number, "face": Money(line.face, facility.currency)}))
            collected[line.pk] = so_far
        if not row_errors and day < line.assignment.funded_on:
            row_errors.append((number, "date", _("Before the funding on %(date)s.")
                               % {"date": line.assignment.funded_on.isoformat()}))
        errors.extend(row_errors)
        if not row_errors:
            parsed.append((number, {"kind": kind, "date": day, "invoice": invoice, "line": line, "amount": amount,
                                    "reference": raw.get("reference", "")[:100]}))
    if errors:
        raise StatementInvalid(errors)
    return parsed


@transaction.atomic
def statement_import(*, organization: Organization, actor: Actor, facility: Facility, file_name: str,
                     content: bytes) -> FactorStatement:
    """Import a factor's statement: collections settle invoices and release reserves, fees and
    interest are posted, repurchases reverse assignments. All rows or none; a file imported once."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, facility)
    digest = hashlib.sha256(content).hexdigest()
    if FactorStatement.objects.filter(facility=facility, sha256=digest).exists():
        raise DomainError(_("This statement was imported already."), code=ErrorCode.DUPLICATE, field="file")
    rows = statement_parse(organization=organization, facility=facility, content=content)
    statement = FactorStatement.objects.create(organization=organization, facility=facility,
                                               file_name=file_name[:255], sha256=digest, row_count=len(rows),
                                               imported_by=actor if getattr(actor, "pk", None) else None)
    order = {StatementRowKind.FEE: 0, StatementRowKind.INTEREST: 1, StatementRowKind.COLLECTION: 2,
             StatementRowKind.REPURCHASE: 3}
    for number, row in sorted(rows, key=lambda r: (r[1]["date"], order[r[1]["kind"]], r[0])):
        line: AssignmentLine = row["line"]
        kind = row["kind"]
        if kind == StatementRowKind.COLLECTION:
            collection_record(organization=organization, actor=actor, line=line, collected_on=row["date"],
                              amount=row["amount"], reference=row["reference"], statement=statement)
        elif kind == StatementRowKind.REPURCHASE:
            line_repurchase(organization=organization, actor=actor, line=line, repurchased_on=row["date"],
                            reason=RepurchaseReason.FACTOR, note=row["reference"], statement=statement)
        else:
            _entry(line, EntryKind.FEE if kind == StatementRowKind.FEE else EntryKind.INTEREST, row["date"],
                   row["amount"], reference=row["reference"], statement=statement)
        FactorStatementRow.objects.create(organization=organization, statement=statement, row_number=number,
                                          kind=kind, row_date=row["date"], invoice=row["invoice"], line=line,
                                          amount=row["amount"], reference=row["reference"])
    audit_record(organization=organization, actor=actor, action="factoring.statement_imported", obj=statement,
                 after={"file": file_name, "rows": len(rows), "sha256": digest})
    return statement
