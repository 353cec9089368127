"""The worked example of the README, to the cent: one invoice of CNY 123,456.78 assigned to a
facility advancing 85% with a 1.25% fee and 8.5% a year on funds in use, funded on 2 March 2026
and collected by the factor 47 days later (18 April 2026)."""

import datetime as dt
from decimal import Decimal

import pytest

from factoring import figures, selectors, services
from factoring.models import AssignmentStatus, Entry, EntryKind, LineState
from receivables.models import Invoice, InvoiceStatus
from tests.factoring.conftest import facility_make, invoice_make

pytestmark = pytest.mark.django_db

FACE = Decimal("123456.78")
FUNDED = dt.date(2026, 3, 2)
COLLECTED = dt.date(2026, 4, 18)


def test_advance_and_fee_are_rounded_half_up_once():
    assert figures.advance_of(FACE, Decimal("0.85"), "CNY") == Decimal("104938.26")  # 104,938.263
    assert figures.fee_of(FACE, Decimal("0.0125"), "CNY") == Decimal("1543.21")  # 1,543.20975


@pytest.mark.parametrize(("day_count", "interest", "reserve"), [
    (360, Decimal("1164.52"), Decimal("15810.79")),  # 104,938.26 x 8.5% x 47 / 360 = 1,164.5232
    (365, Decimal("1148.57"), Decimal("15826.74")),  # 104,938.26 x 8.5% x 47 / 365 = 1,148.5708
])
def test_interest_and_reserve_by_day_count(day_count, interest, reserve):
    got = figures.interest_of(Decimal("104938.26"), rate=Decimal("0.085"), day_count=day_count, start=FUNDED,
                              end=COLLECTED, currency="CNY")
    assert got == interest
    assert figures.reserve_of(FACE, Decimal("104938.26"), Decimal("1543.21"), got) == reserve


def test_interest_follows_funds_in_use_after_a_partial_repayment():
    # 10,000 for 10 days, then 4,000 for 20 days, at 9% / 360: 25.00 + 20.00
    got = figures.interest_of(Decimal("10000"), rate=Decimal("0.09"), day_count=360, start=dt.date(2026, 1, 1),
                              end=dt.date(2026, 1, 31), repayments=[(dt.date(2026, 1, 11), Decimal("6000"))],
                              currency="CNY")
    assert got == Decimal("45.00")


@pytest.mark.parametrize(("day_count", "interest", "reserve"), [
    (360, Decimal("1164.52"), Decimal("15810.79")),
    (365, Decimal("1148.57"), Decimal("15826.74")),
])
def test_the_worked_example_through_the_services(organization, buyer, day_count, interest, reserve):
    # given a disclosed facility and an invoice of 123,456.78 assigned, submitted and funded
    facility = facility_make(organization, day_count=day_count)
    invoice = invoice_make(organization, buyer, str(FACE))
    assignment = services.assignment_create(organization=organization, actor=None, facility=facility,
                                            invoices=[invoice.pk], assigned_on=FUNDED)
    line = assignment.lines.get()
    assert (line.face, line.advance, line.fee) == (FACE, Decimal("104938.26"), Decimal("1543.21"))
    services.assignment_submit(organization=organization, actor=None, assignment=assignment)
    services.assignment_fund(organization=organization, actor=None, assignment=assignment, funded_on=FUNDED,
                             amount_received="103395.05")  # advance less the fee deducted
    # when the factor collects the whole invoice 47 days later
    line = services.collection_record(organization=organization, actor=None, line=line, collected_on=COLLECTED,
                                      amount=str(FACE), reference="HSBC-COL-1")
    # then interest and reserve are the README's figures, and the invoice is paid in the ledger
    assert (line.state, line.interest, line.reserve_released) == (LineState.COLLECTED, interest, reserve)
    assert line.reserve == reserve  # face - advance - fee - interest
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID
    kinds = {kind: amount for kind, amount in Entry.objects.filter(line=line).values_list("kind", "amount")
             if kind != EntryKind.ADVANCE_REPAID}
    assert kinds == {EntryKind.ADVANCE: Decimal("104938.26"), EntryKind.FEE: Decimal("1543.21"),
                     EntryKind.COLLECTION: FACE, EntryKind.INTEREST: interest, EntryKind.RESERVE_RELEASE: reserve}
    assignment.refresh_from_db()
    assert (assignment.status, assignment.closed_on) == (AssignmentStatus.CLOSED, COLLECTED)
    # the position the day before still holds the reserve (with interest accrued to that day)
    before = selectors.position(organization, facility, COLLECTED - dt.timedelta(days=1))
    assert before.funds_in_use == Decimal("104938.26")
    after = selectors.position(organization, facility, COLLECTED)
    assert (after.funds_in_use, after.assigned, after.reserve_held) == (0, 0, 0)
    assert (after.fees_to_date, after.interest_to_date) == (Decimal("1543.21"), interest)
