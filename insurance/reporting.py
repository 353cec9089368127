"""The insurance section of the weekly PDF and the dashboard: cover used, deadlines due in the next
two weeks (and those missed), claims open with their expected indemnity. Registered in apps.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from receivables.selectors import FxTable
from tenancy.models import Organization
from tenancy.money import ZERO

from . import selectors
from .models import ClaimStatus

HORIZON_DAYS = 14


def insurance_section(organization: Organization, as_of: dt.date, language: str) -> dict | None:
    """The section's context, or None when the organization has no policy in force on `as_of`."""
    policies = list(selectors.policy_list(organization).filter(starts_on__lte=as_of, ends_on__gte=as_of))
    if not policies:
        return None
    rows = selectors.insured_deadlines(organization, as_of=as_of)
    covers = [c for c in selectors.covers_as_of(organization, as_of).values() if c.amount > 0]
    base = organization.base_currency
    # Lenient: the weekly PDF and the dashboard never die on a missing rate (counted as zero, as aging does).
    fx = FxTable.load(organization, {r.currency for r in rows} | {c.currency for c in covers}, as_of, lenient=True)
    total_cover = sum((fx.convert(c.amount, c.currency, as_of) for c in covers), ZERO)
    used = sum((fx.convert(r.covered_amount, r.currency, as_of) for r in rows), ZERO)
    until = as_of + dt.timedelta(days=HORIZON_DAYS)
    due = []
    for row in rows:
        deadline = row.claim_by if row.notified_on else row.notify_by
        if row.state in (selectors.DeadlineState.DUE_SOON, selectors.DeadlineState.OK,
                         selectors.DeadlineState.NOTIFIED) and row.effective_due < as_of and deadline <= until:
            due.append((deadline, row))
    due.sort(key=lambda item: (item[0], item[1].invoice_id))
    claims = [c for c in selectors.claim_list(organization) if c.status in (ClaimStatus.DRAFT, ClaimStatus.FILED,
                                                                           ClaimStatus.ACCEPTED)]
    return {
        "currency": base, "policies": policies, "buyers": len(covers), "total_cover": total_cover,
        "cover_used": used, "used_share": (used / total_cover * 100).quantize(Decimal("0.1")) if total_cover else None,
        "due": [{"deadline": d, "row": r, "what": "claim" if r.notified_on else "notify"} for d, r in due[:25]],
        "due_count": len(due), "missed": [r for r in rows if r.state == selectors.DeadlineState.MISSED][:25],
        "claims": claims[:25], "horizon": HORIZON_DAYS,
    }
