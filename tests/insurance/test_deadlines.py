"""Deadlines of every insured invoice as of any date, with frozen clocks across month ends: the
notification, extension and claim deadlines, the states, cover oldest first, disputes suspending
cover, and a fixed number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from dunning import services as dunning_services
from insurance import selectors, services
from insurance.selectors import DeadlineState
from tenancy.errors import DomainError
from tests.factories import make_payment

from .conftest import grant_cover, invoice

pytestmark = pytest.mark.django_db
D = dt.date


def _row(organization, inv, as_of=None):
    rows = {r.invoice_id: r for r in selectors.insured_deadlines(organization, as_of=as_of)}
    return rows.get(inv.pk)


def test_deadlines_of_an_invoice_due_on_a_month_end(organization, covered_buyer):
    # given an invoice due on 31 January (non-leap 2026): notify 60, extend 90, claim 150 days after due
    inv = invoice(organization, covered_buyer, "100000.00", issued=D(2026, 1, 1), due=D(2026, 1, 31))
    row = _row(organization, inv, D(2026, 1, 31))
    # then the deadlines cross February's 28 days and the months' ends exactly
    assert row.notify_by == D(2026, 4, 1)
    assert row.extend_until == D(2026, 5, 1)
    assert row.claim_by == D(2026, 6, 30)
    assert (row.state, row.covered_amount) == (DeadlineState.OK, Decimal("100000.00"))


@pytest.mark.parametrize(("as_of", "state", "days_left"), [
    (D(2026, 1, 31), DeadlineState.OK, 60),          # due today: not overdue yet
    (D(2026, 2, 28), DeadlineState.OK, 32),          # month end, overdue, far from the deadline
    (D(2026, 3, 24), DeadlineState.OK, 8),
    (D(2026, 3, 25), DeadlineState.DUE_SOON, 7),     # warning_days = 7
    (D(2026, 3, 31), DeadlineState.DUE_SOON, 1),     # month end
    (D(2026, 4, 1), DeadlineState.DUE_SOON, 0),      # the last day is still in time
    (D(2026, 4, 2), DeadlineState.MISSED, None),     # one day late: cover lost
])
def test_state_before_notification_day_by_day(organization, covered_buyer, as_of, state, days_left):
    inv = invoice(organization, covered_buyer, "100000.00", issued=D(2026, 1, 1), due=D(2026, 1, 31))
    row = _row(organization, inv, as_of)
    assert (row.state, row.days_left) == (state, days_left)
    assert row.covered_amount == (Decimal(0) if state == DeadlineState.MISSED else Decimal("100000.00"))


def test_leap_february_moves_the_deadline_by_one_day(organization, buyer):
    policy = services.policy_create(organization=organization, actor=None, insurer_name="Coface",
                                    policy_number="P-2028", currency="CNY", starts_on=D(2028, 1, 1),
                                    ends_on=D(2028, 12, 31), insured_percentage=Decimal("90"),
                                    max_credit_period_days=90, overdue_notification_days=60, max_extension_days=60,
                                    claim_filing_days=120, waiting_period_days=90, premium_rate=Decimal("0.2"))
    grant_cover(organization, policy, buyer, on=D(2028, 1, 2))
    leap = invoice(organization, buyer, "10.00", issued=D(2028, 1, 29), due=D(2028, 2, 28))
    assert _row(organization, leap, D(2028, 3, 1)).notify_by == D(2028, 4, 28)  # 29 February counts
    assert _row(organization, leap, D(2028, 4, 28)).state == DeadlineState.DUE_SOON
    assert _row(organization, leap, D(2028, 4, 29)).state == DeadlineState.MISSED


def test_default_as_of_is_the_organizations_local_day(organization, covered_buyer):
    inv = invoice(organization, covered_buyer, "100000.00", issued=D(2026, 1, 1), due=D(2026, 1, 31))
    # 31 March 16:30 UTC is already 1 April in Shanghai: the last day to notify
    with time_machine.travel(dt.datetime(2026, 3, 31, 16, 30, tzinfo=dt.UTC), tick=False):
        assert (_row(organization, inv).state, _row(organization, inv).days_left) == (DeadlineState.DUE_SOON, 0)
    # 1 April 16:00 UTC is 2 April 00:00 in Shanghai: too late
    with time_machine.travel(dt.datetime(2026, 4, 1, 16, 0, tzinfo=dt.UTC), tick=False):
        assert _row(organization, inv).state == DeadlineState.MISSED


def test_notified_then_claim_deadline_then_claimed(organization, policy, covered_buyer):
    inv = invoice(organization, covered_buyer, "100000.00", issued=D(2026, 1, 1), due=D(2026, 1, 31))
    with time_machine.travel(dt.datetime(2026, 3, 20, 4, tzinfo=dt.UTC), tick=False):
        services.declaration_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                    kind="overdue", invoices=[inv])
    assert _row(organization, inv, D(2026, 3, 19)).state == DeadlineState.OK  # as of before the notice
    assert _row(organization, inv, D(2026, 4, 30)).state == DeadlineState.NOTIFIED
    assert _row(organization, inv, D(2026, 5, 31)).state == DeadlineState.NOTIFIED
    assert (_row(organization, inv, D(2026, 6, 23)).state, _row(organization, inv, D(2026, 6, 23)).days_left) == (
        DeadlineState.DUE_SOON, 7)
    assert _row(organization, inv, D(2026, 7, 1)).state == DeadlineState.MISSED
    with time_machine.travel(dt.datetime(2026, 6, 30, 4, tzinfo=dt.UTC), tick=False):
        claim = services.claim_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                      invoices=[inv])
        services.claim_file(organization=organization, actor=None, claim=claim)
    row = _row(organization, inv, D(2026, 7, 31))
    assert (row.state, row.claim_id) == (DeadlineState.CLAIMED, claim.pk)


def test_extension_moves_notification_and_claim_deadlines(organization, policy, covered_buyer):
    inv = invoice(organization, covered_buyer, "100000.00", issued=D(2026, 1, 1), due=D(2026, 1, 31))
    with time_machine.travel(dt.datetime(2026, 2, 10, 4, tzinfo=dt.UTC), tick=False):
        with pytest.raises(DomainError, match="at most 2026-05-01"):
            services.declaration_create(organization=organization, actor=None, policy=policy,
                                        customer=covered_buyer, kind="extension", invoices=[inv],
                                        new_due_date=D(2026, 5, 2))
        services.declaration_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                    kind="extension", invoices=[inv], new_due_date=D(2026, 4, 30))
    row = _row(organization, inv, D(2026, 4, 2))
    assert (row.effective_due, row.notify_by, row.claim_by) == (D(2026, 4, 30), D(2026, 6, 29), D(2026, 9, 27))
    assert row.state == DeadlineState.OK  # the original deadline (1 April) no longer applies
    assert row.extend_until == D(2026, 5, 1)  # always from the original due date


def test_late_notification_does_not_restore_cover(organization, policy, covered_buyer):
    inv = invoice(organization, covered_buyer, "100000.00", issued=D(2026, 1, 1), due=D(2026, 1, 31))
    with (time_machine.travel(dt.datetime(2026, 4, 5, 4, tzinfo=dt.UTC), tick=False),
          pytest.raises(DomainError, match="cover is lost")):
        services.declaration_create(organization=organization, actor=None, policy=policy,
                                    customer=covered_buyer, kind="overdue", invoices=[inv])


def test_cover_is_spread_oldest_first_and_a_dispute_suspends_its_amount(organization, three_invoices):
    _a, b, _c = three_invoices
    rows = {r.invoice_number: r for r in selectors.insured_deadlines(organization, as_of=D(2026, 3, 1))}
    assert [rows[n].covered_amount for n in "ABC"] == [Decimal("120345.67"), Decimal("79654.33"), Decimal("0")]
    with time_machine.travel(dt.datetime(2026, 3, 10, 4, tzinfo=dt.UTC), tick=False):
        dispute = dunning_services.dispute_open(organization=organization, actor=None, invoice=b, reason="quality",
                                                amount=Decimal("10000.00"))
    # before the dispute: as before; from its opening day: B loses 10,000.00 of cover, C gets what is left
    rows = {r.invoice_number: r for r in selectors.insured_deadlines(organization, as_of=D(2026, 3, 10))}
    assert [rows[n].covered_amount for n in "ABC"] == [Decimal("120345.67"), Decimal("70000.00"), Decimal("9654.33")]
    assert rows["B"].disputed == Decimal("10000.00")
    with time_machine.travel(dt.datetime(2026, 3, 20, 4, tzinfo=dt.UTC), tick=False):
        dunning_services.dispute_resolve(organization=organization, actor=None, dispute=dispute, resolution="rejected")
    rows = {r.invoice_number: r for r in selectors.insured_deadlines(organization, as_of=D(2026, 3, 20))}
    assert [rows[n].covered_amount for n in "ABC"] == [Decimal("120345.67"), Decimal("79654.33"), Decimal("0")]
    rows = {r.invoice_number: r for r in selectors.insured_deadlines(organization, as_of=D(2026, 3, 15))}
    assert rows["B"].covered_amount == Decimal("70000.00")  # as of a past date, the dispute still counts


def test_payments_count_as_of_their_date_and_free_cover(organization, three_invoices):
    make_payment(organization, three_invoices[0].customer, amount="20345.67", received_on=D(2026, 3, 15))
    before = {r.invoice_number: r for r in selectors.insured_deadlines(organization, as_of=D(2026, 3, 14))}
    after = {r.invoice_number: r for r in selectors.insured_deadlines(organization, as_of=D(2026, 3, 15))}
    assert before["A"].balance == Decimal("120345.67")
    assert (after["A"].balance, after["B"].covered_amount, after["C"].covered_amount) == (
        Decimal("100000.00"), Decimal("80000.00"), Decimal("20000.00"))


def test_missed_invoice_takes_no_cover(organization, three_invoices):
    rows = {r.invoice_number: r for r in selectors.insured_deadlines(organization, as_of=D(2026, 4, 2))}
    assert rows["A"].state == DeadlineState.MISSED
    assert [rows[n].covered_amount for n in "ABC"] == [Decimal("0"), Decimal("80000.00"), Decimal("50000.00")]


def test_uninsured_invoices_are_left_out(organization, policy, covered_buyer, buyer):
    long_terms = invoice(organization, covered_buyer, "10.00", issued=D(2026, 1, 1), due=D(2026, 6, 1))  # 151 days
    before_policy = invoice(organization, covered_buyer, "10.00", issued=D(2025, 12, 20), due=D(2026, 1, 20))
    ids = {r.invoice_id for r in selectors.insured_deadlines(organization, as_of=D(2026, 2, 1))}
    assert long_terms.pk not in ids and before_policy.pk not in ids


def test_cover_expires_and_refusal_keeps_the_earlier_cover(organization, policy, buyer):
    grant_cover(organization, policy, buyer, "50000.00", on=D(2026, 1, 5), valid_until=D(2026, 2, 28))
    inv = invoice(organization, buyer, "80000.00", issued=D(2026, 1, 10), due=D(2026, 2, 9))
    increase = services.cover_request_create(organization=organization, actor=None, policy=policy, customer=buyer,
                                             request_type="increase", amount=Decimal("90000"),
                                             requested_on=D(2026, 1, 20))
    services.cover_request_decide(organization=organization, actor=None, request=increase, decision="refused",
                                  reason_code="3", reason_text="Insufficient information", decided_on=D(2026, 1, 25))
    assert _row(organization, inv, D(2026, 2, 28)).covered_amount == Decimal("50000.00")
    assert _row(organization, inv, D(2026, 3, 1)).covered_amount == Decimal("0")  # expired


def test_a_fixed_number_of_queries(organization, covered_buyer, django_assert_max_num_queries, buyer):
    for day in range(1, 4):
        invoice(organization, covered_buyer, "100.00", issued=D(2026, 1, day), due=D(2026, 2, day))
    with django_assert_max_num_queries(9) as few:
        assert len(selectors.insured_deadlines(organization, as_of=D(2026, 3, 1))) == 3
    for day in range(4, 28):
        invoice(organization, covered_buyer, "100.00", issued=D(2026, 1, day), due=D(2026, 2, day))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(selectors.insured_deadlines(organization, as_of=D(2026, 3, 1))) == 27
