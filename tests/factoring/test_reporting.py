"""What other parts read from factoring: the weekly PDF and dashboard section, the marker on the
ledger's invoice and customer pages, and the cash flows the forecast expects."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template.loader import render_to_string

from factoring import selectors, services
from receivables.reporting.sections import sections_build
from tests.factoring.conftest import facility_make, invoice_make

pytestmark = pytest.mark.django_db


def _funded(organization, facility, invoices, *, on=dt.date(2026, 3, 2)):
    assignment = services.assignment_create(organization=organization, actor=None, facility=facility,
                                            invoices=[i.pk for i in invoices], assigned_on=on)
    services.assignment_submit(organization=organization, actor=None, assignment=assignment)
    services.assignment_fund(organization=organization, actor=None, assignment=assignment, funded_on=on,
                             amount_received=assignment.advance_total - assignment.fee_total)
    return assignment


def test_weekly_section_only_when_a_facility_exists(organization, buyer):
    assert "factoring" not in [s.key for s in sections_build(organization, dt.date(2026, 3, 2), "en")]
    facility = facility_make(organization)
    _funded(organization, facility, [invoice_make(organization, buyer, "10000")])
    built = {s.key: s for s in sections_build(organization, dt.date(2026, 3, 12), "en")}
    section = built["factoring"]
    html = render_to_string(section.template, {"section": section.context})
    assert "HSBC factoring" in html and "8,500.00" in html  # funds in use
    # 8,500 x 8.5% x 10 / 360 = 20.07 interest accrued on the 12th
    assert section.context["positions"][0].interest_to_date == Decimal("20.07")


def test_assigned_invoices_carry_a_marker_on_the_ledger_pages(client, organization, buyer, credit_manager):
    facility = facility_make(organization)
    invoice = invoice_make(organization, buyer, "10000")
    other = invoice_make(organization, buyer, "500")
    assignment = _funded(organization, facility, [invoice])
    client.force_login(credit_manager)
    page = client.get(f"/invoices/{invoice.pk}/").content.decode()
    assert f"Assigned to 汇丰保理 HSBC Factoring ({assignment.number})" in page
    assert "Assigned to" not in client.get(f"/invoices/{other.pk}/").content.decode()
    customer_page = client.get(f"/customers/{buyer.pk}/").content.decode()
    assert 'data-testid="customer-markers"' in customer_page and invoice.number in customer_page
    # The invoice list (with its ages) says it too, on the assigned invoice's row only.
    listing = client.get("/invoices/").content.decode()
    rows = {int(row.split('"', 1)[0]): row.split("</tr>", 1)[0]
            for row in listing.split('<tr data-testid="invoice-row-')[1:]}
    assert f"Assigned to 汇丰保理 HSBC Factoring ({assignment.number})" in rows[invoice.pk]
    assert invoice.number in rows[invoice.pk] and other.number in rows[other.pk]
    assert "Assigned to" not in rows[other.pk]


def test_expected_cash_flows_for_the_forecast(organization, buyer):
    disclosed = facility_make(organization)
    silent = facility_make(organization, name="Bank discounting", mode="discounting", disclosed=False)
    a = invoice_make(organization, buyer, "10000", due=dt.date(2026, 4, 1))
    b = invoice_make(organization, buyer, "20000", due=dt.date(2026, 4, 11))
    c = invoice_make(organization, buyer, "4000", due=dt.date(2026, 5, 1))
    _funded(organization, disclosed, [a])
    _funded(organization, silent, [b])
    services.assignment_create(organization=organization, actor=None, facility=disclosed, invoices=[c.pk],
                               assigned_on=dt.date(2026, 3, 5))
    flows = selectors.expected_cash_flows(organization, start=dt.date(2026, 3, 2), end=dt.date(2026, 4, 30))
    got = [(f["date"], f["kind"], f["amount"], f["invoice_id"]) for f in flows]
    # a: the customer pays the factor 10,000; the reserve comes back: 10,000 - 8,500 - 125 - interest
    #    (8,500 x 8.5% x 30 / 360 = 60.21) = 1,314.79
    # b: we collect and repay the advance 17,000 + interest (17,000 x 8.5% x 40 / 360 = 160.56)
    # c: not funded yet: its advance less the fee comes on the assignment date, 3,400 - 50
    assert got == [
        (dt.date(2026, 3, 5), "advance", Decimal("3350.00"), None),
        (dt.date(2026, 4, 1), "collected_by_factor", Decimal("-10000.00"), a.pk),
        (dt.date(2026, 4, 1), "reserve_release", Decimal("1314.79"), a.pk),
        (dt.date(2026, 4, 11), "advance_repayment", Decimal("-17160.56"), b.pk),
    ]
    assert all(isinstance(f["label"], str) and f["label"] for f in flows)
    # nothing expected before the first date; what is overdue at the window's start moves to its start
    assert selectors.expected_cash_flows(organization, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 4)) == []
    later = selectors.expected_cash_flows(organization, start=dt.date(2026, 5, 2), end=dt.date(2026, 5, 2))
    assert {f["date"] for f in later} == {dt.date(2026, 5, 2)} and len(later) == 4
