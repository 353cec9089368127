"""Credit services on the real database: behaviour in SQL, scoring, approvals, holds, reviews, alerts."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credit import selectors, services
from credit.models import AlertKind, CreditAlert, CreditReview, CreditScore, HoldMode, LimitRequestStatus
from receivables.models import Invoice
from tenancy.errors import DomainError, ErrorCode, PermissionDenied
from tenancy.mail import ORGANIZATION_HEADER
from tenancy.models import AuditEntry, Role, WebhookEvent
from tests.factories import CustomerFactory, MembershipFactory, make_invoice, make_payment

TODAY = dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai
AS_OF = dt.date(2026, 3, 31)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def pay_late(organization, customer, *, amount, due, days_late):
    invoice = make_invoice(organization, customer, amount=amount, issue_date=due - dt.timedelta(days=30), due_date=due)
    make_payment(organization, customer, amount=amount, received_on=due + dt.timedelta(days=days_late))
    return invoice


def test_payment_behaviour_is_amount_weighted_from_allocation_dates(organization, customer):
    pay_late(organization, customer, amount="1000.00", due=dt.date(2025, 8, 1), days_late=0)
    pay_late(organization, customer, amount="3000.00", due=dt.date(2025, 12, 1), days_late=20)
    pay_late(organization, customer, amount="1000.00", due=dt.date(2026, 2, 1), days_late=-5)  # early counts as 0
    pay_late(organization, customer, amount="500.00", due=dt.date(2024, 1, 1), days_late=3)  # outside 12 months

    behaviour = selectors.payment_behaviour(organization, AS_OF)[customer.pk]

    assert behaviour.invoices == 3
    assert behaviour.avg_days_late == Decimal("12.00")  # 3000 * 20 / 5000
    assert behaviour.on_time_share == Decimal("0.4000")
    assert behaviour.worst_delay == 20
    # Last 6 months: (3000*20 + 1000*0) / 4000 = 15; the 6 before: 0.
    assert behaviour.trend == Decimal("15.00")


def _sound_credit_file(organization, customer, credit_manager):
    """A registered company founded in 2010 with a healthy 2025 statement."""
    services.profile_update(organization=organization, actor=credit_manager, customer=customer, founding_year=2010,
                            uscc="91440300708461136T")
    services.financial_statement_set(
        organization=organization, actor=credit_manager, customer=customer, year=2025, revenue="50000000",
        ebit="4000000", net_income="3000000", current_assets="20000000", current_liabilities="12000000",
        total_assets="40000000", total_liabilities="22000000", retained_earnings="9000000", equity="18000000")


def test_score_is_stored_with_inputs_and_reproducible(organization, customer, credit_manager):
    for month in range(4, 12):
        pay_late(organization, customer, amount="1000.00", due=dt.date(2025, month, 10), days_late=month - 4)
    _sound_credit_file(organization, customer, credit_manager)

    score = services.customer_score(organization=organization, customer=customer)

    stored = CreditScore.objects.get(pk=score.pk)
    again = services.score_reproduce(stored)
    assert (again.score, again.grade, again.provisional) == (stored.score, stored.grade, stored.provisional)
    assert again.factors_json() == stored.factors
    assert stored.inputs["payment"]["worst_delay"] == 7
    assert stored.inputs["financials"]["model"] == "z2"
    assert not stored.provisional


def test_bad_uscc_is_refused_with_the_reason(organization, customer, collector):
    with pytest.raises(DomainError) as error:
        services.profile_update(organization=organization, actor=collector, customer=customer,
                                uscc="91440300708461136X")
    assert error.value.message == ("Unified social credit code 91440300708461136X: check character is X, "
                                   "expected T: a character is mistyped.")


def test_new_customer_gets_a_provisional_score_and_halved_limit(organization, customer):
    score = services.customer_score(organization=organization, customer=customer)
    assert score.provisional
    assert score.score_low < score.score < score.score_high
    assert "Provisional score" in score.recommended_conditions


# --- approvals -----------------------------------------------------------------------------

def _member(organization, role):
    return MembershipFactory(organization=organization, role=role).user


def test_small_limit_needs_one_credit_manager(organization, customer, collector, credit_manager):
    request = services.limit_request_create(organization=organization, actor=collector, customer=customer,
                                            requested_limit="500000", requested_terms_days=45, reason="Growing orders")
    assert request.levels_required == ["credit_manager"]

    services.limit_request_approve(organization=organization, actor=credit_manager, request=request, comment="ok")

    request.refresh_from_db()
    assert request.status == LimitRequestStatus.APPROVED
    profile = services.profile_ensure(organization=organization, customer=customer)
    assert profile.credit_limit == Decimal("500000")
    customer.refresh_from_db()
    assert customer.payment_terms_days == 45
    step = request.steps.get()
    assert step.score_snapshot["grade"] == request.score.grade
    assert AuditEntry.objects.filter(organization=organization, action="credit.limit_changed").count() == 1
    assert WebhookEvent.objects.filter(organization=organization, type="credit.limit_changed").count() == 1


def test_large_limit_needs_credit_manager_then_admin(organization, customer, collector, credit_manager, admin_user):
    request = services.limit_request_create(organization=organization, actor=collector, customer=customer,
                                            requested_limit="3000000", requested_terms_days=60, reason="Key account")
    assert request.levels_required == ["credit_manager", "admin"]

    with pytest.raises(PermissionDenied) as error:
        services.limit_request_approve(organization=organization, actor=collector, request=request)
    assert error.value.message == "This needs the Credit manager role in Acme Trading."

    services.limit_request_approve(organization=organization, actor=credit_manager, request=request)
    request.refresh_from_db()
    assert request.status == LimitRequestStatus.PENDING
    assert services.profile_ensure(organization=organization, customer=customer).credit_limit is None

    second_manager = _member(organization, Role.CREDIT_MANAGER)
    with pytest.raises(PermissionDenied, match="needs the Admin role"):
        services.limit_request_approve(organization=organization, actor=second_manager, request=request)

    services.limit_request_approve(organization=organization, actor=admin_user, request=request)
    request.refresh_from_db()
    assert request.status == LimitRequestStatus.APPROVED
    assert [s.level for s in request.steps.all()] == ["credit_manager", "admin"]
    assert services.profile_ensure(organization=organization, customer=customer).credit_limit == Decimal("3000000")


def test_next_level_moves_with_each_approval_and_is_none_once_decided(organization, customer, collector,
                                                                     credit_manager, admin_user):
    request = services.limit_request_create(organization=organization, actor=collector, customer=customer,
                                            requested_limit="3000000", requested_terms_days=60, reason="Key account")
    assert request.next_level == "credit_manager"

    services.limit_request_approve(organization=organization, actor=credit_manager, request=request)
    request.refresh_from_db()
    assert request.next_level == "admin"

    services.limit_request_approve(organization=organization, actor=admin_user, request=request)
    request.refresh_from_db()
    assert (request.status, request.next_level) == (LimitRequestStatus.APPROVED, None)


def test_proposer_cannot_approve_own_request(organization, customer, credit_manager):
    request = services.limit_request_create(organization=organization, actor=credit_manager, customer=customer,
                                            requested_limit="1000", requested_terms_days=30, reason="Trial")
    with pytest.raises(PermissionDenied) as error:
        services.limit_request_approve(organization=organization, actor=credit_manager, request=request)
    assert error.value.message == "You proposed this limit; someone else must decide on it."


def test_rejection_needs_a_reason_and_closes_the_request(organization, customer, collector, credit_manager):
    request = services.limit_request_create(organization=organization, actor=collector, customer=customer,
                                            requested_limit="1000", requested_terms_days=30, reason="Trial")
    with pytest.raises(DomainError, match="Give a reason for the rejection."):
        services.limit_request_reject(organization=organization, actor=credit_manager, request=request, reason=" ")
    services.limit_request_reject(organization=organization, actor=credit_manager, request=request,
                                  reason="Two disputes open")
    request.refresh_from_db()
    assert (request.status, request.rejection_reason) == (LimitRequestStatus.REJECTED, "Two disputes open")
    with pytest.raises(DomainError, match="already rejected"):
        services.limit_request_approve(organization=organization, actor=credit_manager, request=request)


# --- blacklist and holds -------------------------------------------------------------------

def test_only_credit_managers_blacklist(organization, customer, collector, credit_manager):
    with pytest.raises(PermissionDenied, match="Credit manager"):
        services.blacklist_set(organization=organization, actor=collector, customer=customer, blacklisted=True,
                               reason="Fraud")
    with pytest.raises(DomainError, match="Give the reason for blacklisting"):
        services.blacklist_set(organization=organization, actor=credit_manager, customer=customer, blacklisted=True)
    profile = services.blacklist_set(organization=organization, actor=credit_manager, customer=customer,
                                     blacklisted=True, reason="Fraud")
    assert profile.blacklisted_on == AS_OF


def _set_limit(organization, customer, amount):
    services.profile_ensure(organization=organization, customer=customer)
    return services.credit_limit_apply(organization=organization, actor=None, customer=customer,
                                       limit=Decimal(amount), terms_days=customer.payment_terms_days, source="test")


def test_invoice_over_limit_is_refused_with_reason(organization, customer):
    _set_limit(organization, customer, "1000.00")
    make_invoice(organization, customer, amount="800.00", issue_date=dt.date(2026, 3, 1))

    with pytest.raises(DomainError) as error:
        make_invoice(organization, customer, amount="300.00", issue_date=dt.date(2026, 3, 30), number="INV-OVER")

    assert error.value.code == ErrorCode.CREDIT_HOLD
    assert error.value.message == (
        "上海华东贸易有限公司 is on credit hold: Exposure 800.00 CNY plus this invoice (300.00 CNY) exceeds the "
        "credit limit of 1,000.00 CNY. A credit manager can raise the limit or lift the hold.")
    assert not Invoice.objects.filter(number="INV-OVER").exists()
    make_invoice(organization, customer, amount="200.00", issue_date=dt.date(2026, 3, 30))  # exactly at the limit


def test_blacklisted_and_overdue_customers_are_held(organization, customer, credit_manager):
    other = CustomerFactory(organization=organization, name="Late Payer")
    services.profile_ensure(organization=organization, customer=other)
    make_invoice(organization, other, amount="10.00", issue_date=dt.date(2025, 12, 1), due_date=dt.date(2026, 1, 1))
    with pytest.raises(DomainError, match="An invoice is 89 days overdue; the hold threshold is 60 days."):
        make_invoice(organization, other, amount="10.00", issue_date=dt.date(2026, 3, 30))

    services.blacklist_set(organization=organization, actor=credit_manager, customer=customer, blacklisted=True,
                           reason="Fraud")
    with pytest.raises(DomainError, match=r"is blacklisted \(Fraud\)"):
        make_invoice(organization, customer, amount="10.00", issue_date=dt.date(2026, 3, 30))


def test_warn_mode_allows_invoice_and_raises_alert(organization, customer, admin_user):
    services.policy_update(organization=organization, actor=admin_user, hold_mode=HoldMode.WARN)
    _set_limit(organization, customer, "100.00")

    invoice = make_invoice(organization, customer, amount="300.00", issue_date=dt.date(2026, 3, 30))

    assert invoice.credit_warning.startswith("上海华东贸易有限公司 is on credit hold: Exposure 0.00 CNY plus this")
    alert = CreditAlert.objects.get(organization=organization, kind=AlertKind.HOLD_WARNING)
    assert alert.customer_id == customer.pk


def test_off_mode_and_customers_without_file_are_not_checked(organization, customer, admin_user):
    make_invoice(organization, customer, amount="999999.00", issue_date=dt.date(2026, 3, 30))  # no file: no hold
    _set_limit(organization, customer, "1.00")
    services.policy_update(organization=organization, actor=admin_user, hold_mode=HoldMode.OFF)
    assert make_invoice(organization, customer, amount="5.00", issue_date=dt.date(2026, 3, 30)).credit_warning is None


# --- reviews and alerts --------------------------------------------------------------------

def _customers_due(organization, count):
    customers = [CustomerFactory(organization=organization) for _ in range(count)]
    for c in customers:
        profile = services.profile_ensure(organization=organization, customer=c)
        profile.next_review_on = dt.date(2026, 3, 31)
        profile.save()
        pay_late(organization, c, amount="100.00", due=dt.date(2026, 1, 10), days_late=3)
    return customers


def test_review_run_is_idempotent_and_moves_the_date(organization):
    customers = _customers_due(organization, 3)

    first = services.reviews_run(organization=organization, as_of=AS_OF)
    second = services.reviews_run(organization=organization, as_of=AS_OF)

    assert len(first) == 3 and second == []
    reviews = CreditReview.objects.filter(organization=organization)
    assert reviews.count() == 3
    assert {r.customer_id for r in reviews} == {c.pk for c in customers}
    assert all(r.proposed_limit == r.score.recommended_limit for r in reviews)
    profile = services.profile_ensure(organization=organization, customer=customers[0])
    assert profile.next_review_on == dt.date(2026, 6, 30)


def test_scoring_query_count_does_not_grow_with_customers(organization):
    _customers_due(organization, 2)
    services.scores_run(organization=organization, as_of=AS_OF)  # first run creates files, may raise alerts
    with CaptureQueriesContext(connection) as small:
        services.scores_run(organization=organization, as_of=AS_OF)
    _customers_due(organization, 12)
    services.scores_run(organization=organization, as_of=AS_OF)
    with CaptureQueriesContext(connection) as large:
        services.scores_run(organization=organization, as_of=AS_OF)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_grade_drop_signal_and_concentration_alerts_then_digest(organization, customer, credit_manager, mailoutbox):
    first = services.customer_score(organization=organization, customer=customer)
    services.signal_record(organization=organization, actor=credit_manager, customer=customer, kind="litigation",
                           severity="high", observed_on=dt.date(2026, 3, 20), description="Sued by a supplier")
    make_invoice(organization, customer, amount="900.00", issue_date=dt.date(2026, 3, 1))
    make_invoice(organization, CustomerFactory(organization=organization), amount="100.00",
                 issue_date=dt.date(2026, 3, 1))
    services.alerts_scan(organization=organization, as_of=AS_OF)
    services.alerts_scan(organization=organization, as_of=AS_OF)  # nothing twice

    kinds = sorted(CreditAlert.objects.filter(organization=organization).values_list("kind", flat=True))
    assert kinds == [AlertKind.CONCENTRATION, AlertKind.NEW_SIGNAL]
    concentration = CreditAlert.objects.get(kind=AlertKind.CONCENTRATION)
    assert concentration.message == "上海华东贸易有限公司 is 90.0% of all receivables (alert above 20%)."
    assert (first.grade, first.provisional) == ("C", True)  # no data yet: provisional, and no grade to drop from

    assert services.alerts_digest_send(organization=organization) == 2
    assert services.alerts_digest_send(organization=organization) == 0
    [mail] = mailoutbox
    assert mail.to == [credit_manager.email]
    assert mail.subject == "Acme Trading: 2 credit alerts"
    assert mail.extra_headers[ORGANIZATION_HEADER] == str(organization.pk)
    assert "Sued by a supplier" in mail.body
    assert WebhookEvent.objects.filter(organization=organization, type="credit.alert").count() == 2


def test_over_limit_and_first_overdue_of_good_customer(organization, customer):
    make_invoice(organization, customer, amount="80.00", issue_date=dt.date(2026, 2, 1), due_date=dt.date(2026, 3, 1))
    _set_limit(organization, customer, "50.00")
    score = services.customer_score(organization=organization, customer=customer)
    CreditScore.objects.filter(pk=score.pk).update(grade="A")  # a good customer, as scored before

    services.alerts_scan(organization=organization, as_of=AS_OF)

    messages = dict(CreditAlert.objects.filter(organization=organization).values_list("kind", "message"))
    assert messages[AlertKind.OVER_LIMIT] == (
        "上海华东贸易有限公司 exposure 80.00 CNY is over its credit limit of 50.00 CNY.")
    assert messages[AlertKind.FIRST_OVERDUE] == (
        "上海华东贸易有限公司 (grade A) has an overdue invoice: 80.00 CNY, 30 days.")


def test_grade_drop_raises_one_alert_and_a_rerun_none(organization, customer, credit_manager):
    for month in range(4, 12):
        pay_late(organization, customer, amount="1000.00", due=dt.date(2025, month, 10), days_late=0)
    _sound_credit_file(organization, customer, credit_manager)
    before = services.customer_score(organization=organization, customer=customer)
    # given: three large invoices paid five months late
    for month in (9, 10, 11):
        pay_late(organization, customer, amount="20000.00", due=dt.date(2025, month, 1), days_late=150)

    # when
    after = services.customer_score(organization=organization, customer=customer)
    services.customer_score(organization=organization, customer=customer)  # the rerun: nothing dropped since

    # then
    assert (before.grade, before.provisional, after.grade, after.provisional) == ("A", False, "C", False)
    [alert] = CreditAlert.objects.filter(organization=organization, kind=AlertKind.GRADE_DROPPED)
    assert alert.message == "上海华东贸易有限公司 dropped from grade A to C."
    assert (alert.customer_id, alert.data) == (customer.pk, {"from": "A", "to": "C"})
