"""What is covered is never dunned: disputes, promises to pay, payment plans; a broken promise
or a missed installment resumes dunning. Early-payment discount."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from dunning import services
from dunning.models import (
    CollectionTask,
    CustomerDunning,
    CustomerEvent,
    DunningNotice,
    EventKind,
    PlanStatus,
    PromiseStatus,
)
from tenancy.errors import DomainError
from tenancy.models import WebhookEvent
from tests.dunning.conftest import travel
from tests.factories import make_invoice, make_payment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def run_on(organization, day, capture):
    with travel(day), capture(execute=True):
        return services.dunning_run(organization=organization)


def notices(invoice):
    return list(DunningNotice.objects.filter(invoice=invoice).order_by("step_days").values_list("step_days",
                                                                                                  "amount_due"))


@pytest.fixture
def overdue(organization, english):
    return make_invoice(organization, english, amount="1000.00", issue_date=dt.date(2026, 1, 1),
                        due_date=dt.date(2026, 3, 1), number="INV-1")


def test_a_full_dispute_pauses_dunning_and_resolving_it_rejected_resumes(
        organization, english, overdue, collector, django_capture_on_commit_callbacks):
    with travel(dt.date(2026, 3, 1)):
        dispute = services.dispute_open(organization=organization, actor=collector, invoice=overdue, reason="quality",
                                        description="Broken parts")
    run_on(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)
    assert notices(overdue) == []

    with travel(dt.date(2026, 3, 10)):
        services.dispute_resolve(organization=organization, actor=collector, dispute=dispute, resolution="rejected",
                                 notes="Photos show parts intact")
    run_on(organization, dt.date(2026, 3, 11), django_capture_on_commit_callbacks)
    assert notices(overdue) == [(1, Decimal("1000.0000"))]
    assert list(WebhookEvent.objects.filter(organization=organization, type__startswith="dispute.")
                .values_list("type", flat=True)) == ["dispute.opened", "dispute.resolved"]


def test_a_partial_dispute_dunns_only_the_undisputed_amount(organization, english, overdue, collector,
                                                           django_capture_on_commit_callbacks):
    with travel(dt.date(2026, 3, 2)):
        services.dispute_open(organization=organization, actor=collector, invoice=overdue, reason="price",
                              amount="300.00")
    run_on(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)

    assert notices(overdue) == [(1, Decimal("700.0000"))]
    assert "700.00 CNY (excluding 300.00 under dispute)" in mail.outbox[0].body


def test_dispute_resolved_by_credit_note_reduces_the_invoice(organization, english, overdue, collector):
    with travel(dt.date(2026, 3, 2)):
        dispute = services.dispute_open(organization=organization, actor=collector, invoice=overdue, reason="price",
                                        amount="200.00")
        services.dispute_resolve(organization=organization, actor=collector, dispute=dispute,
                                 resolution="credit_note", credit_note_number="CN-9")
    overdue.refresh_from_db()
    assert overdue.balance == Decimal("800.0000")


def test_dispute_more_than_the_balance_is_refused(organization, english, overdue, collector):
    with travel(dt.date(2026, 3, 2)), pytest.raises(DomainError, match="At most 1,000.00 CNY of invoice INV-1"):
        services.dispute_open(organization=organization, actor=collector, invoice=overdue, reason="price",
                              amount="1000.01")


def test_a_promise_pauses_until_its_date_plus_grace_then_a_broken_promise_resumes_and_is_flagged(
        organization, english, overdue, collector, django_capture_on_commit_callbacks):
    with travel(dt.date(2026, 3, 2)):
        promise = services.promise_create(organization=organization, actor=collector, customer=english,
                                          invoices=[overdue], amount="1000.00", promised_date=dt.date(2026, 3, 20),
                                          grace_days=3)
    run_on(organization, dt.date(2026, 3, 23), django_capture_on_commit_callbacks)  # pause lasts to the 23rd
    assert notices(overdue) == []
    make_payment(organization, english, amount="400.00", received_on=dt.date(2026, 3, 19))

    run_on(organization, dt.date(2026, 3, 24), django_capture_on_commit_callbacks)

    promise.refresh_from_db()
    assert (promise.status, promise.paid_amount) == (PromiseStatus.BROKEN, Decimal("400.0000"))
    assert notices(overdue) == [(1, Decimal("600.0000"))]
    assert CustomerDunning.objects.get(customer=english).broken_promises == 1
    assert CollectionTask.objects.filter(customer=english, title__startswith="Broken promise").exists()
    assert CustomerEvent.objects.filter(customer=english, kind=EventKind.PROMISE_BROKEN).exists()
    assert WebhookEvent.objects.filter(organization=organization, type="promise.broken").count() == 1


def test_a_promise_is_kept_when_the_money_comes_in(organization, english, overdue, collector,
                                                  django_capture_on_commit_callbacks):
    with travel(dt.date(2026, 3, 2)):
        promise = services.promise_create(organization=organization, actor=collector, customer=english,
                                          invoices=[overdue], amount="600.00", promised_date=dt.date(2026, 3, 20))
    make_payment(organization, english, amount="600.00", received_on=dt.date(2026, 3, 18))

    run_on(organization, dt.date(2026, 3, 19), django_capture_on_commit_callbacks)

    promise.refresh_from_db()
    assert promise.status == PromiseStatus.KEPT
    assert CustomerEvent.objects.filter(customer=english, kind=EventKind.PROMISE_KEPT).exists()


def test_promise_in_the_past_is_refused(organization, english, overdue, collector):
    with travel(dt.date(2026, 3, 2)), pytest.raises(DomainError, match="The promised date cannot be in the past."):
        services.promise_create(organization=organization, actor=collector, customer=english, invoices=[overdue],
                                amount="10", promised_date=dt.date(2026, 3, 1))


def test_plan_installments_principal_must_add_up_to_the_covered_balance(organization, english, overdue,
                                                                       collector):
    with travel(dt.date(2026, 3, 2)), pytest.raises(DomainError) as error:
        services.payment_plan_create(organization=organization, actor=collector, customer=english,
                                     invoices=[overdue], interest_rate="0",
                                     installments=[(dt.date(2026, 4, 1), "500"), (dt.date(2026, 5, 1), "400")])
    assert error.value.message == ("The installments' principal adds up to 900.00 CNY; the covered balance is "
                                   "1,000.00 CNY (interest is added on the declining balance).")


def test_plan_pauses_dunning_and_a_missed_installment_resumes_it(organization, english, overdue, collector,
                                                                django_capture_on_commit_callbacks):
    with travel(dt.date(2026, 3, 2)):
        # 1,000 at 12% for 30 days (9.8630), then 500 for 31 days (5.0959): 14.96 interest
        plan = services.payment_plan_create(organization=organization, actor=collector, customer=english,
                                            invoices=[overdue], interest_rate="12", grace_days=2,
                                            installments=[(dt.date(2026, 4, 1), "500"),
                                                          (dt.date(2026, 5, 2), "500")])
    assert (plan.interest_amount, plan.total_amount) == (Decimal("14.96"), Decimal("1014.96"))
    assert [i.amount for i in plan.installments.all()] == [Decimal("509.86"), Decimal("505.10")]
    make_payment(organization, english, amount="509.86", received_on=dt.date(2026, 4, 1))
    run_on(organization, dt.date(2026, 5, 4), django_capture_on_commit_callbacks)  # 2nd due May 2 + 2 days grace
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE and notices(overdue) == []

    run_on(organization, dt.date(2026, 5, 5), django_capture_on_commit_callbacks)

    plan.refresh_from_db()
    assert plan.status == PlanStatus.DEFAULTED
    # catch-up: the first reminder it missed while the plan paused it (not the +60 it reached)
    assert notices(overdue) == [(1, Decimal("490.1400"))]


def test_early_payment_discount_settles_the_invoice(organization, english, admin_user, collector):
    policy = services.dunning_policy_default(organization=organization)
    services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy,
                                   discount_percent=Decimal("2"), discount_days=10)
    invoice = make_invoice(organization, english, amount="1000.00", issue_date=dt.date(2026, 3, 1),
                           due_date=dt.date(2026, 3, 31))
    late = make_invoice(organization, english, amount="1000.00", issue_date=dt.date(2026, 2, 1),
                        due_date=dt.date(2026, 3, 3))

    with travel(dt.date(2026, 3, 9)):
        _payment, discount = services.payment_record_with_discount(
            organization=organization, actor=collector, invoice=invoice, received_on=dt.date(2026, 3, 9),
            amount="980.00")
        _payment, none = services.payment_record_with_discount(
            organization=organization, actor=collector, invoice=late, received_on=dt.date(2026, 3, 9),
            amount="980.00")

    invoice.refresh_from_db()
    late.refresh_from_db()
    assert (discount, invoice.status, invoice.balance) == (Decimal("20.0000"), "paid", 0)
    assert (none, late.balance) == (Decimal("0"), Decimal("20.0000"))


def test_early_payment_discount_is_earned_by_each_payment_inside_the_window(organization, english, admin_user,
                                                                             collector):
    policy = services.dunning_policy_default(organization=organization)
    services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy,
                                   discount_percent=Decimal("2"), discount_days=10)
    invoice = make_invoice(organization, english, amount="1000.00", issue_date=dt.date(2026, 3, 1),
                           due_date=dt.date(2026, 3, 31))

    with travel(dt.date(2026, 3, 20)):
        # 490 on day 5 settles 500 (2/98 of it is the discount); the rest comes after the window
        _p, early = services.payment_record_with_discount(organization=organization, actor=collector, invoice=invoice,
                                                          received_on=dt.date(2026, 3, 6), amount="490.00")
        _p, later = services.payment_record_with_discount(organization=organization, actor=collector, invoice=invoice,
                                                          received_on=dt.date(2026, 3, 20), amount="500.00")

    invoice.refresh_from_db()
    assert (early, later) == (Decimal("10.00"), Decimal("0"))
    assert (invoice.status, invoice.balance) == ("paid", 0)
