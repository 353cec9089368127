"""Figures a finance user checks (issue 12): late interest billed once, on the balance actually
outstanding; no interest on a charges invoice; fees in a stated currency; catch-up never jumps to
a formal demand; the demand letter lists what it says; cash on account holds dunning."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core import mail

from dunning import services
from dunning.accrual import interest_accrued
from dunning.models import CatchUp, DunningMessage, DunningNotice, DunningPolicy, DunningStep
from receivables import services as ledger
from tenancy.models import AuditEntry
from tests.dunning.conftest import travel
from tests.factories import CustomerFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db

DUE = dt.date(2025, 1, 31)


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def policy(organization, admin_user):
    """The default policy at 12% simple interest, sending every day (the example's dates)."""
    policy = services.dunning_policy_default(organization=organization)
    return services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy,
                                          interest_mode="fixed", interest_rate=Decimal("12"),
                                          business_days_only=False)


def run_on(organization, day, capture):
    with travel(day), capture(execute=True):
        return services.dunning_run(organization=organization)


def interest_billed(invoice):
    return list(DunningNotice.objects.filter(invoice=invoice).order_by("step_days")
                .values_list("step_days", "interest_amount"))


def ten_thousand(organization, customer, number="INV-10K"):
    return make_invoice(organization, customer, amount="10000.00", issue_date=dt.date(2025, 1, 1), due_date=DUE,
                        number=number)


# --- 1. late interest charged once ----------------------------------------------------------

def test_interest_at_12_percent_is_billed_once_over_the_four_steps(
        organization, english, policy, credit_manager, django_capture_on_commit_callbacks):
    # given: 10,000 due 2025-01-31 at 12% simple interest
    invoice = ten_thousand(organization, english)

    # when: the run reaches +1, +30, +60, +90
    for day in (1, 30, 60, 90):
        run_on(organization, DUE + dt.timedelta(days=day), django_capture_on_commit_callbacks)

    # then: each notice bills only what accrued since the previous one; 10,000 x 12% x 90/365 = 295.89 in all
    assert interest_billed(invoice) == [(1, Decimal("3.29")), (30, Decimal("95.34")), (60, Decimal("98.63")),
                                        (90, Decimal("98.63"))]
    with travel(DUE + dt.timedelta(days=90)):
        charges = services.late_charges_invoice(organization=organization, actor=credit_manager, customer=english,
                                                number="LC-1")
    assert charges.total_amount == Decimal("295.89")
    assert charges.kind == "charges"


def test_a_partial_payment_on_day_20_lowers_the_interest_from_day_21(
        organization, english, policy, django_capture_on_commit_callbacks):
    invoice = ten_thousand(organization, english)
    run_on(organization, DUE + dt.timedelta(days=1), django_capture_on_commit_callbacks)
    make_payment(organization, english, amount="4000.00", received_on=DUE + dt.timedelta(days=20))

    run_on(organization, DUE + dt.timedelta(days=30), django_capture_on_commit_callbacks)

    # days 1-20 on 10,000: 65.7534; days 21-30 on 6,000: 19.7260; 85.48 accrued, 3.29 billed before
    assert interest_billed(invoice) == [(1, Decimal("3.29")), (30, Decimal("82.19"))]


def test_a_reversed_payment_accrues_interest_again_from_the_day_after_the_reversal():
    # signed allocations: 4,000 applied on day 20, reversed (-4,000) on day 25
    accrued = interest_accrued(total=Decimal("10000"), currency="CNY", due_date=DUE,
                               through=DUE + dt.timedelta(days=30), annual_rate_percent=Decimal("12"),
                               allocations=[(DUE + dt.timedelta(days=20), Decimal("4000")),
                                            (DUE + dt.timedelta(days=25), Decimal("-4000"))])
    # 20 days on 10,000 (65.7534) + 5 on 6,000 (9.8630) + 5 on 10,000 (16.4384)
    assert accrued == Decimal("92.05")


def test_disputed_amount_accrues_no_interest_while_the_dispute_is_open():
    accrued = interest_accrued(total=Decimal("10000"), currency="CNY", due_date=DUE,
                               through=DUE + dt.timedelta(days=30), annual_rate_percent=Decimal("12"),
                               disputes=[(DUE + dt.timedelta(days=11), DUE + dt.timedelta(days=21), Decimal("10000"))])
    assert accrued == interest_accrued(total=Decimal("10000"), currency="CNY", due_date=DUE,
                                       through=DUE + dt.timedelta(days=20), annual_rate_percent=Decimal("12"))
    assert accrued == Decimal("65.75")  # 20 of the 30 days


# --- 2. no interest on interest -------------------------------------------------------------

def test_a_charges_invoice_accrues_no_interest_or_fees_itself(
        organization, english, policy, credit_manager, admin_user, django_capture_on_commit_callbacks):
    services.dunning_policy_steps_set(organization=organization, actor=admin_user, policy=policy, steps=[
        {"days_from_due": 1, "fee_amount": "40", "fee_currency": "CNY"},
        {"days_from_due": 30, "fee_amount": "40", "fee_currency": "CNY"}])
    ten_thousand(organization, english)
    run_on(organization, DUE + dt.timedelta(days=1), django_capture_on_commit_callbacks)
    with travel(DUE + dt.timedelta(days=1)):
        charges = services.late_charges_invoice(organization=organization, actor=credit_manager, customer=english,
                                                number="LC-1")
    assert charges.total_amount == Decimal("43.29")  # fee 40 + interest 3.29

    # when: the charges invoice itself falls overdue and reaches both steps
    run_on(organization, charges.due_date + dt.timedelta(days=1), django_capture_on_commit_callbacks)
    run_on(organization, charges.due_date + dt.timedelta(days=30), django_capture_on_commit_callbacks)

    # then: it is reminded of, but never charged a fee or interest
    rows = list(DunningNotice.objects.filter(invoice=charges).values_list("step_days", "fee_amount",
                                                                          "interest_amount"))
    assert sorted(rows) == [(1, Decimal("0"), Decimal("0")), (30, Decimal("0"), Decimal("0"))]


# --- 4. fees in a stated currency -----------------------------------------------------------

def test_a_eur_40_fee_is_converted_at_the_stored_rates(organization, admin_user, credit_manager, policy,
                                                      django_capture_on_commit_callbacks):
    ledger.fx_rate_set(organization=organization, actor=credit_manager, currency="EUR", rate_date=dt.date(2025, 1, 1),
                       rate=Decimal("7.8"))
    ledger.fx_rate_set(organization=organization, actor=credit_manager, currency="USD", rate_date=dt.date(2025, 1, 1),
                       rate=Decimal("7.1"))
    services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy, interest_mode="none")
    services.dunning_policy_steps_set(organization=organization, actor=admin_user, policy=policy, steps=[
        {"days_from_due": 1, "fee_amount": "40", "fee_currency": "EUR"}])
    cny = CustomerFactory(organization=organization, currency="CNY")
    usd = CustomerFactory(organization=organization, currency="USD")
    eur = CustomerFactory(organization=organization, currency="EUR")
    invoices = [make_invoice(organization, c, amount="1000.00", issue_date=dt.date(2025, 1, 1), due_date=DUE,
                             currency=c.currency) for c in (cny, usd, eur)]

    run_on(organization, DUE + dt.timedelta(days=1), django_capture_on_commit_callbacks)

    fees = [DunningNotice.objects.get(invoice=i).fee_amount for i in invoices]
    # EUR 40 = CNY 312.00 = USD 43.94 (312 / 7.1), and stays EUR 40 on a EUR invoice
    assert fees == [Decimal("312.00"), Decimal("43.94"), Decimal("40.00")]


def test_a_fee_with_no_stored_rate_is_not_charged_and_the_run_says_so(
        organization, admin_user, policy, english, django_capture_on_commit_callbacks):
    services.dunning_policy_steps_set(organization=organization, actor=admin_user, policy=policy, steps=[
        {"days_from_due": 1, "fee_amount": "40", "fee_currency": "EUR"}])
    invoice = ten_thousand(organization, english)

    run = run_on(organization, DUE + dt.timedelta(days=1), django_capture_on_commit_callbacks)

    assert DunningNotice.objects.get(invoice=invoice).fee_amount == 0
    entry = AuditEntry.objects.get(organization=organization, action="dunning.run", object_id=str(run.pk))
    assert entry.after["fees_without_rate"] == ["EUR/CNY"]


# --- 15. catch-up never jumps to a formal demand --------------------------------------------

def test_an_invoice_found_95_days_late_gets_the_first_reminder_then_the_sequence(
        organization, english, policy, django_capture_on_commit_callbacks):
    # given: an old invoice imported 95 days after its due date
    invoice = ten_thousand(organization, english)
    first = DUE + dt.timedelta(days=95)

    run_on(organization, first, django_capture_on_commit_callbacks)
    run_on(organization, first + dt.timedelta(days=1), django_capture_on_commit_callbacks)
    assert [d for d, _i in interest_billed(invoice)] == [1]  # the first reminder, and nothing the next day
    assert not DunningMessage.objects.filter(has_letter=True).exists()

    # then the sequence continues at its own pace: +30 comes 29 days after the +1 was sent
    run_on(organization, first + dt.timedelta(days=28), django_capture_on_commit_callbacks)
    assert [d for d, _i in interest_billed(invoice)] == [1]
    run_on(organization, first + dt.timedelta(days=29), django_capture_on_commit_callbacks)
    assert [d for d, _i in interest_billed(invoice)] == [1, 30]


def test_the_highest_step_catch_up_is_a_policy_option(organization, english, admin_user, policy,
                                                     django_capture_on_commit_callbacks):
    services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy,
                                   catch_up=CatchUp.HIGHEST)
    invoice = ten_thousand(organization, english)

    run_on(organization, DUE + dt.timedelta(days=95), django_capture_on_commit_callbacks)

    assert [d for d, _i in interest_billed(invoice)] == [90]
    # the interest is still billed once: 95 days of it
    assert interest_billed(invoice)[0][1] == Decimal("312.33")


# --- 14. the demand letter lists what its step says -----------------------------------------

def test_the_demand_letter_lists_only_the_invoices_at_the_demand_step(
        organization, english, admin_user, policy, django_capture_on_commit_callbacks):
    from pypdf import PdfReader

    services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy,
                                   catch_up=CatchUp.HIGHEST)
    make_invoice(organization, english, amount="500.00", issue_date=dt.date(2025, 1, 1), due_date=DUE,
                 number="OLD-95")
    make_invoice(organization, english, amount="300.00", issue_date=dt.date(2025, 3, 1),
                 due_date=DUE + dt.timedelta(days=36), number="NEW-59")

    run_on(organization, DUE + dt.timedelta(days=95), django_capture_on_commit_callbacks)

    [sent] = mail.outbox
    [(_name, content, _mime)] = sent.attachments
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())
    assert "OLD-95" in text
    assert "NEW-59" not in text  # a +59 reminder in the same mail is not a formal demand
    assert "remain unpaid 95 days or more after their due dates" in text
    assert "NEW-59" in sent.body  # the mail itself still lists both


# --- 9. cash on account ---------------------------------------------------------------------

def test_cash_on_account_covering_the_overdue_amount_holds_dunning(
        organization, english, admin_user, policy, django_capture_on_commit_callbacks):
    invoice = make_invoice(organization, english, amount="5000.00", issue_date=dt.date(2025, 1, 1), due_date=DUE)
    make_payment(organization, english, amount="5000.00", received_on=DUE, auto_allocate=False)

    run = run_on(organization, DUE + dt.timedelta(days=30), django_capture_on_commit_callbacks)

    assert not DunningNotice.objects.filter(invoice=invoice).exists()
    entry = AuditEntry.objects.get(organization=organization, action="dunning.run", object_id=str(run.pk))
    assert entry.after["held_credit_on_account"] == [english.pk]


def test_with_the_hold_off_the_reminder_shows_the_cash_on_account(
        organization, english, admin_user, policy, django_capture_on_commit_callbacks):
    services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy,
                                   hold_when_credit_covers=False, interest_mode="none")
    invoice = make_invoice(organization, english, amount="5000.00", issue_date=dt.date(2025, 1, 1), due_date=DUE)
    make_payment(organization, english, amount="3000.00", received_on=DUE, auto_allocate=False)

    run_on(organization, DUE + dt.timedelta(days=30), django_capture_on_commit_callbacks)

    assert DunningNotice.objects.filter(invoice=invoice).exists()
    [sent] = mail.outbox
    assert "unapplied payments and credits on account 3,000.00 (net balance 2,000.00)" in sent.body


def test_fee_currency_defaults_to_the_base_currency(organization, policy):
    assert set(DunningStep.objects.filter(policy=policy).values_list("fee_currency", flat=True)) == {"CNY"}


# --- 5. payment-plan interest on the declining balance --------------------------------------

def monthly(start, count):
    from dateutil.relativedelta import relativedelta

    return [start + relativedelta(months=k) for k in range(1, count + 1)]


def test_plan_interest_is_on_the_declining_balance_and_billed_on_the_ledger(organization, english, collector):
    invoice = make_invoice(organization, english, amount="12000.00", issue_date=dt.date(2025, 10, 1),
                           due_date=dt.date(2025, 10, 31), number="INV-12K")
    # when: 12,000 at 12% over 12 monthly installments, agreed 2025-12-01 (first due 2026-01-01)
    with travel(dt.date(2025, 12, 1)):
        plan = services.payment_plan_create(organization=organization, actor=collector, customer=english,
                                            invoices=[invoice], interest_rate="12",
                                            installments=monthly(dt.date(2025, 12, 1), 12))

    # then: 779.18 interest (not 12,000 x 12% = 1,440), and a schedule of principal, interest, balance
    assert (plan.interest_amount, plan.total_amount) == (Decimal("779.18"), Decimal("12779.18"))
    lines = list(plan.installments.values_list("principal", "interest", "balance_after"))
    assert lines[0] == (Decimal("1000.00"), Decimal("122.30"), Decimal("11000.00"))  # 12,000 x 12% x 31/365
    assert lines[1] == (Decimal("1000.00"), Decimal("112.11"), Decimal("10000.00"))  # 11,000 x 12% x 31/365
    assert lines[-1] == (Decimal("1000.00"), Decimal("9.86"), Decimal("0.00"))  # 1,000 x 12% x 30/365
    assert sum(i for _p, i, _b in lines) == Decimal("779.18")
    # the interest is on the ledger, so paying the whole schedule leaves no unapplied cash
    charges = plan.charges_invoice
    assert (charges.kind, charges.total_amount) == ("charges", Decimal("779.18"))
    payment = make_payment(organization, english, amount="12779.18", received_on=dt.date(2026, 12, 1))
    payment.refresh_from_db()
    assert payment.unapplied_amount == 0


def test_plan_schedule_shows_in_the_api(organization, english, collector):
    from tests.api.conftest import key_client

    invoice = make_invoice(organization, english, amount="12000.00", issue_date=dt.date(2025, 10, 1),
                           due_date=dt.date(2025, 10, 31))
    with travel(dt.date(2025, 12, 1)):
        plan = services.payment_plan_create(organization=organization, actor=collector, customer=english,
                                            invoices=[invoice], interest_rate="12",
                                            installments=monthly(dt.date(2025, 12, 1), 12))
    client = key_client(organization)
    body = client.get(f"/api/v1/payment-plans/{plan.pk}/").json()
    first = body["installments"][0]
    assert (first["principal"], first["interest"], first["balance_after"]) == ("1000.0000", "122.3000", "11000.0000")


# --- 8. promises judged on the promised invoices --------------------------------------------

def test_a_payment_applied_to_another_invoice_does_not_keep_a_promise(
        organization, english, collector, policy, django_capture_on_commit_callbacks):
    a = make_invoice(organization, english, amount="1000.00", issue_date=dt.date(2025, 1, 1), due_date=DUE,
                     number="A")
    b = make_invoice(organization, english, amount="1000.00", issue_date=dt.date(2025, 1, 1), due_date=DUE,
                     number="B")
    with travel(DUE + dt.timedelta(days=2)):
        promise = services.promise_create(organization=organization, actor=collector, customer=english,
                                          invoices=[a], amount="1000.00", promised_date=DUE + dt.timedelta(days=10),
                                          grace_days=0)
    payment = make_payment(organization, english, amount="1000.00", received_on=DUE + dt.timedelta(days=5),
                           auto_allocate=False)
    ledger.payment_allocate(organization=organization, actor=None, payment=payment, allocations=[(b, Decimal("1000"))])

    run_on(organization, DUE + dt.timedelta(days=11), django_capture_on_commit_callbacks)

    promise.refresh_from_db()
    assert (promise.status, promise.paid_amount) == ("broken", Decimal("0"))


# --- 18. business days from a holiday calendar ----------------------------------------------

def test_china_calendar_skips_national_day_and_sends_on_the_make_up_working_sunday(
        organization, english, admin_user, django_capture_on_commit_callbacks):
    policy = services.dunning_policy_default(organization=organization)
    services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy,
                                   holiday_calendars="cn")
    assert DunningPolicy.objects.get(pk=policy.pk).holiday_calendars == "CN"
    sunday_due = make_invoice(organization, english, issue_date=dt.date(2025, 9, 1), due_date=dt.date(2025, 9, 27),
                              number="DUE-0927")
    holiday_due = make_invoice(organization, english, issue_date=dt.date(2025, 9, 1), due_date=dt.date(2025, 9, 30),
                               number="DUE-0930")

    # 2025-09-28 is a Sunday worked in mainland China (调休 for National Day): the +1 goes out
    run_on(organization, dt.date(2025, 9, 28), django_capture_on_commit_callbacks)
    assert [d for d, _i in interest_billed(sunday_due)] == [1]
    # October 1-8 are public holidays: nothing is sent
    for day in range(1, 9):
        run_on(organization, dt.date(2025, 10, day), django_capture_on_commit_callbacks)
    assert [d for d, _i in interest_billed(holiday_due) if d > 0] == []
    with travel(dt.date(2025, 10, 3)):
        preview = services.dunning_preview_page(organization)
    assert (preview.held_policies, preview.next_day) == (["Standard"], dt.date(2025, 10, 9))
    # the first working day after the holiday sends its first reminder
    run_on(organization, dt.date(2025, 10, 9), django_capture_on_commit_callbacks)
    assert [d for d, _i in interest_billed(holiday_due)] == [-7, 1]


def test_without_a_calendar_business_days_are_monday_to_friday(organization, english,
                                                              django_capture_on_commit_callbacks):
    invoice = make_invoice(organization, english, issue_date=dt.date(2025, 9, 1), due_date=dt.date(2025, 9, 27))
    run_on(organization, dt.date(2025, 9, 28), django_capture_on_commit_callbacks)  # a Sunday
    assert interest_billed(invoice) == []
    run_on(organization, dt.date(2025, 10, 1), django_capture_on_commit_callbacks)  # a Wednesday
    assert [d for d, _i in interest_billed(invoice)] == [1]


def test_an_unknown_holiday_calendar_is_refused_by_name(organization, admin_user):
    from tenancy.errors import DomainError

    policy = services.dunning_policy_default(organization=organization)
    with pytest.raises(DomainError) as refused:
        services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy,
                                       holiday_calendars="CN, XX")
    assert refused.value.message == "No holiday calendar for XX; use an ISO 3166 country code such as CN."


def test_plan_schedule_shows_on_the_plans_page(client, organization, english, collector):
    from django.urls import reverse

    invoice = make_invoice(organization, english, amount="12000.00", issue_date=dt.date(2025, 10, 1),
                           due_date=dt.date(2025, 10, 31))
    with travel(dt.date(2025, 12, 1)):
        services.payment_plan_create(organization=organization, actor=collector, customer=english,
                                     invoices=[invoice], interest_rate="12",
                                     installments=monthly(dt.date(2025, 12, 1), 12))
        client.force_login(collector)
        page = client.get(reverse("dunning:plan_list")).content.decode()
    schedule = " ".join(page.split('data-testid="plan-schedule"')[1].split("</table>")[0].split())
    first_row = schedule.split("<tr>")[2]
    from tenancy.money import money_format

    cny = [money_format(Decimal(value), "CNY") for value in ("1000", "122.30", "1122.30", "11000")]
    assert [cell.split("</td>")[0].split(">")[-1] for cell in first_row.split("<td")[1:]] == ["1", "2026-01-01", *cny]


def test_a_promise_kept_by_a_payment_later_reversed_is_open_again_then_broken(
        organization, english, collector, credit_manager, policy, django_capture_on_commit_callbacks):
    a = make_invoice(organization, english, amount="1000.00", issue_date=dt.date(2025, 1, 1), due_date=DUE,
                     number="A")
    with travel(DUE + dt.timedelta(days=2)):
        promise = services.promise_create(organization=organization, actor=collector, customer=english,
                                          invoices=[a], amount="1000.00", promised_date=DUE + dt.timedelta(days=10),
                                          grace_days=0)
    payment = make_payment(organization, english, amount="1000.00", received_on=DUE + dt.timedelta(days=5))
    run_on(organization, DUE + dt.timedelta(days=6), django_capture_on_commit_callbacks)
    promise.refresh_from_db()
    assert promise.status == "kept"

    # when: the payment bounces (a dated reversal: a negative allocation on day 8)
    with travel(DUE + dt.timedelta(days=8)):
        ledger.payment_reverse(organization=organization, actor=credit_manager, payment=payment,
                               reversed_on=DUE + dt.timedelta(days=8), reason="Returned by the bank")
    run_on(organization, DUE + dt.timedelta(days=9), django_capture_on_commit_callbacks)

    # then: open again until its deadline (dunning stays paused), then broken
    promise.refresh_from_db()
    assert (promise.status, promise.paid_amount) == ("open", Decimal("0"))
    assert not DunningNotice.objects.filter(invoice=a).exists()
    run_on(organization, DUE + dt.timedelta(days=11), django_capture_on_commit_callbacks)
    promise.refresh_from_db()
    assert promise.status == "broken"
    # and interest came back after the reversal: days 1-5 and 9-11 on 1,000, days 6-8 on nothing (paid on day 5,
    # reversed on day 8): 8 days x 1,000 x 12% / 365 = 2.63, on the first reminder
    assert interest_billed(a) == [(1, Decimal("2.63"))]


def test_a_plan_completed_by_a_payment_later_reversed_is_active_again(
        organization, english, collector, credit_manager, django_capture_on_commit_callbacks):
    invoice = make_invoice(organization, english, amount="1200.00", issue_date=dt.date(2025, 10, 1),
                           due_date=dt.date(2025, 10, 31))
    with travel(dt.date(2025, 12, 1)):
        plan = services.payment_plan_create(organization=organization, actor=collector, customer=english,
                                            invoices=[invoice], installments=monthly(dt.date(2025, 12, 1), 2))
    payment = make_payment(organization, english, amount="1200.00", received_on=dt.date(2025, 12, 20))
    run_on(organization, dt.date(2025, 12, 22), django_capture_on_commit_callbacks)
    plan.refresh_from_db()
    assert plan.status == "completed"

    with travel(dt.date(2025, 12, 23)):
        ledger.payment_reverse(organization=organization, actor=credit_manager, payment=payment,
                               reversed_on=dt.date(2025, 12, 23), reason="Returned by the bank")
    run_on(organization, dt.date(2025, 12, 24), django_capture_on_commit_callbacks)

    plan.refresh_from_db()
    assert (plan.status, plan.ended_on) == ("active", None)


def test_customer_calendar_holds_a_reminder_on_a_holiday_in_the_customers_country(
        organization, admin_user, django_capture_on_commit_callbacks):
    policy = services.dunning_policy_default(organization=organization)
    services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy,
                                   holiday_calendars="CN,customer")
    german = CustomerFactory(organization=organization, name="Berlin GmbH", country="DE")
    local = CustomerFactory(organization=organization, name="Shanghai Co", country="CN")
    # 2025-12-26 (Friday): the Second Day of Christmas in Germany, a working day in China
    de_invoice = make_invoice(organization, german, issue_date=dt.date(2025, 11, 1), due_date=dt.date(2025, 12, 25))
    cn_invoice = make_invoice(organization, local, issue_date=dt.date(2025, 11, 1), due_date=dt.date(2025, 12, 25))

    run_on(organization, dt.date(2025, 12, 26), django_capture_on_commit_callbacks)

    assert [d for d, _i in interest_billed(cn_invoice) if d > 0] == [1]
    assert [d for d, _i in interest_billed(de_invoice) if d > 0] == []  # 2. Weihnachtstag in Berlin
    run_on(organization, dt.date(2025, 12, 29), django_capture_on_commit_callbacks)  # Monday
    assert [d for d, _i in interest_billed(de_invoice) if d > 0] == [1]
