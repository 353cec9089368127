"""Files for the factor and the customer: the assignment schedule (CSV, XLSX and a bilingual
PDF) and the notice of assignment (a bilingual letter naming the factor and its bank account,
for disclosed facilities). Amounts are rounded to the currency's minor unit at this edge."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.template.loader import render_to_string

from receivables.exports import csv_bytes, xlsx_bytes
from receivables.models import Customer
from tenancy.errors import DomainError
from tenancy.money import quantize

from .models import Assignment, AssignmentLine, LineState

# Bilingual column headings: the factor may read either language.
SCHEDULE_HEADER = ["Invoice 发票号", "Customer 客户", "Issue date 开票日", "Due date 到期日", "Currency 币种",
                   "Face value 票面金额", "Advance 预付款", "Fee 保理费", "State 状态"]


def _lines(assignment: Assignment) -> list[AssignmentLine]:
    return list(AssignmentLine.objects.filter(organization_id=assignment.organization_id, assignment=assignment)
                .select_related("invoice", "customer").order_by("customer__name", "invoice__due_date", "pk"))


def schedule_rows(assignment: Assignment) -> list[list[Any]]:
    currency = assignment.currency
    return [[line.invoice.number, line.customer.name, line.invoice.issue_date, line.invoice.due_date, currency,
             quantize(line.face, currency), quantize(line.advance, currency), quantize(line.fee, currency),
             line.state] for line in _lines(assignment)]


def schedule_csv(assignment: Assignment) -> bytes:
    rows = [[*row[:2], row[2].isoformat(), row[3].isoformat(), *row[4:]] for row in schedule_rows(assignment)]
    return csv_bytes(SCHEDULE_HEADER, rows)


def schedule_xlsx(assignment: Assignment) -> bytes:
    return xlsx_bytes(assignment.number, SCHEDULE_HEADER, schedule_rows(assignment))


def _totals(assignment: Assignment) -> dict[str, str]:
    currency = assignment.currency
    return {name: f"{quantize(getattr(assignment, name), currency):,}"
            for name in ("face_total", "advance_total", "fee_total")}


def schedule_pdf(assignment: Assignment) -> bytes:
    """The schedule as a bilingual (English and 简体中文) PDF for the factor."""
    from weasyprint import HTML

    currency = assignment.currency
    lines = [{"number": line.invoice.number, "customer": line.customer.name, "issue_date": line.invoice.issue_date,
              "due_date": line.invoice.due_date, "face": f"{quantize(line.face, currency):,}",
              "advance": f"{quantize(line.advance, currency):,}", "fee": f"{quantize(line.fee, currency):,}"}
             for line in _lines(assignment)]
    html = render_to_string("factoring/schedule_pdf.html", {
        "assignment": assignment, "facility": assignment.facility, "organization": assignment.facility.organization,
        "lines": lines, "totals": _totals(assignment)})
    return HTML(string=html).write_pdf()


def notice_pdf(assignment: Assignment, customer: Customer, *, today: dt.date) -> bytes:
    """The notice of assignment to `customer` (disclosed facilities only): its invoices in the
    assignment now belong to the factor and are to be paid to the factor's bank account."""
    from weasyprint import HTML

    facility = assignment.facility
    if not facility.disclosed:
        raise DomainError("Silent factoring and discounting are not disclosed: no notice of assignment.")
    currency = assignment.currency
    lines = [{"number": line.invoice.number, "due_date": line.invoice.due_date,
              "face": f"{quantize(line.face, currency):,}"}
             for line in _lines(assignment) if line.customer_id == customer.pk and line.state == LineState.ASSIGNED]
    if not lines:
        raise DomainError("This customer has no invoice in the assignment.")
    html = render_to_string("factoring/notice_pdf.html", {
        "assignment": assignment, "facility": facility, "organization": facility.organization,
        "customer": customer, "lines": lines, "currency": currency, "today": today})
    return HTML(string=html).write_pdf()
