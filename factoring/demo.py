"""Factoring for the demo organization (called by `manage.py seed_demo`), written through
factoring.services so the audit chain and the ledger are the real ones.

What a demo user then finds: a disclosed recourse factoring facility with ICBC (CNY) with an
assignment funded six weeks ago, part of it collected by the factor (a statement imported) and
one invoice repurchased; a silent invoice-discounting facility with China Merchants Bank with a
submitted assignment waiting for the admin's approval (above the facility's threshold)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tenancy.dates import local_today
from tenancy.models import Membership, Organization, Role

from . import selectors, services


def _people(organization: Organization) -> dict[str, object]:
    people: dict[str, object] = {}
    for membership in Membership.objects.filter(organization=organization).select_related("user").order_by("pk"):
        people.setdefault(membership.role, membership.user)
    return people


def _eligible(organization, facility, as_of, count, *, skip=()) -> list:
    rows = [row for row in selectors.eligibility(organization, facility, as_of).rows
            if row.eligible and row.invoice_id not in skip]
    return sorted(rows, key=lambda row: (-row.balance, row.invoice_id))[:count]


def factoring_demo_seed(*, organization: Organization) -> dict[str, int]:
    """Two facilities, three assignments in different states, a factor statement, a repurchase."""
    today = local_today(organization.timezone)
    people = _people(organization)
    admin, manager = people.get(Role.ADMIN), people.get(Role.CREDIT_MANAGER) or people.get(Role.ADMIN)
    icbc = services.facility_create(
        organization=organization, actor=admin, name="ICBC 保理 / factoring", factor_name="中国工商银行上海分行保理部",
        factor_bank_name="中国工商银行上海分行", factor_bank_account="1001 2345 0900 1234 567", mode="factoring",
        disclosed=True, recourse=True, currency="CNY", limit=Decimal("5000000"), advance_rate=Decimal("0.85"),
        fee_rate=Decimal("0.012"), interest_rate=Decimal("0.065"), day_count=360, max_days_past_due=30,
        max_terms_days=120, min_invoice_amount=Decimal("5000"), concentration_limit=Decimal("0.40"),
        cross_aging_rate=Decimal("0.5"), repurchase_after_days=60, approval_threshold=Decimal("2000000"),
        valid_from=today - dt.timedelta(days=365))
    cmb = services.facility_create(
        organization=organization, actor=admin, name="招商银行发票贴现 / CMB discounting",
        factor_name="招商银行上海分行", factor_bank_name="招商银行上海分行", factor_bank_account="6214 8300 0000 8888",
        mode="discounting", disclosed=False, recourse=True, currency="CNY", limit=Decimal("3000000"),
        advance_rate=Decimal("0.80"), fee_rate=Decimal("0.005"), interest_rate=Decimal("0.0435"), day_count=365,
        max_days_past_due=0, max_terms_days=90, min_invoice_amount=Decimal("10000"), approval_threshold=Decimal("50000"),
        valid_from=today - dt.timedelta(days=365))
    made = {"facilities": 2, "assignments": 0}
    funded_on = today - dt.timedelta(days=42)
    rows = _eligible(organization, icbc, funded_on, 8)
    if rows:
        assignment = services.assignment_create(organization=organization, actor=manager, facility=icbc,
                                                invoices=[row.invoice_id for row in rows], assigned_on=funded_on)
        services.assignment_submit(organization=organization, actor=admin, assignment=assignment)
        services.assignment_fund(organization=organization, actor=manager, assignment=assignment, funded_on=funded_on,
                                 amount_received=assignment.advance_total - assignment.fee_total)
        made["assignments"] += 1
        lines = list(assignment.lines.select_related("invoice").order_by("pk"))
        collected = lines[:3]
        csv = "date,type,invoice,amount,reference\n" + "".join(
            f"{(funded_on + dt.timedelta(days=20 + i)).isoformat()},collection,{line.invoice.number},{line.face},"
            f"ICBC-COL-{i + 1:03d}\n" for i, line in enumerate(collected))
        if collected:
            services.statement_import(organization=organization, actor=manager, facility=icbc,
                                      file_name="icbc-statement.csv", content=csv.encode())
        if len(lines) > 4:
            services.line_repurchase(organization=organization, actor=manager, line=lines[-1],
                                     repurchased_on=today - dt.timedelta(days=5),
                                     note="客户延期付款，按协议回购 / buyer late, repurchased under the agreement")
    taken = set(selectors.live_lines(organization, [r.invoice_id for r in rows]))
    rows = _eligible(organization, cmb, today, 5, skip=taken)
    if rows:
        assignment = services.assignment_create(organization=organization, actor=manager, facility=cmb,
                                                invoices=[row.invoice_id for row in rows], assigned_on=today)
        services.assignment_submit(organization=organization, actor=manager, assignment=assignment)
        made["assignments"] += 1
    return made
