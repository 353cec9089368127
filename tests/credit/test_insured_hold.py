"""The insured hold (issue 16 item 2): never invoice a customer beyond its insurance cover in force
plus the policy's uninsured appetite. Credit asks the cover through credit.cover's registry; these
tests register a plain provider of their own (tests/insurance covers the real insurance answer)."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from credit import cover, selectors, services
from credit.models import AlertKind, CreditAlert, CreditScore, HoldMode
from receivables.models import Invoice
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import AuditEntry
from tests.factories import CustomerFactory, make_invoice

TODAY = dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


class Covers(dict):
    """{customer id: cover in force} (base currency) and the questions the registry was asked."""

    def __init__(self):
        super().__init__()
        self.asked: list[tuple[list[int], dt.date]] = []

    def __call__(self, organization, customer_ids, on):
        self.asked.append((sorted(customer_ids), on))
        return {cid: amount for cid, amount in self.items() if cid in customer_ids}


@pytest.fixture
def covers(monkeypatch):
    """A registry holding only this test's provider."""
    monkeypatch.setattr(cover, "_providers", [])
    table = Covers()
    cover.cover_provider_register(table)
    return table


@pytest.fixture
def no_provider(monkeypatch):
    monkeypatch.setattr(cover, "_providers", [])


def _insured_hold(organization, admin_user, *, appetite="50000.00", mode=HoldMode.REFUSE):
    return services.policy_update(organization=organization, actor=admin_user, insured_hold=True,
                                  uninsured_appetite=appetite, hold_mode=mode)


def test_worked_example_refused_naming_cover_appetite_and_allowed(organization, customer, admin_user, covers):
    # Cover CNY 300,000.00, appetite 50,000.00: 350,000.00 allowed. Exposure 320,000.00 + 40,000.00 = 360,000.00.
    covers[customer.pk] = Decimal("300000.00")
    _insured_hold(organization, admin_user)
    make_invoice(organization, customer, amount="320000.00", issue_date=dt.date(2026, 3, 20))

    with pytest.raises(DomainError) as error:
        make_invoice(organization, customer, amount="40000.00", issue_date=dt.date(2026, 3, 30), number="INS-OVER")

    assert error.value.code == ErrorCode.CREDIT_HOLD
    assert error.value.message == (
        "上海华东贸易有限公司 is on credit hold: Exposure 320,000.00 CNY plus this invoice (40,000.00 CNY) exceeds "
        "the insurance cover in force of 300,000.00 CNY plus the uninsured appetite of 50,000.00 CNY: "
        "350,000.00 CNY allowed. A credit manager can raise the limit or lift the hold.")
    assert not Invoice.objects.filter(number="INS-OVER").exists()
    # Exactly up to cover + appetite passes: 320,000.00 + 30,000.00 = 350,000.00.
    assert make_invoice(organization, customer, amount="30000.00", issue_date=dt.date(2026, 3, 30)).credit_warning is None
    # The policy change is audited with its before and after.
    entry = AuditEntry.objects.filter(organization=organization, action="credit.policy_updated").latest("pk")
    assert entry.after["insured_hold"] is True and entry.after["uninsured_appetite"] == "50000.00"


def test_many_at_once_counts_each_customers_new_invoices_together(organization, customer, admin_user, covers):
    other = CustomerFactory(organization=organization, name="Chengdu Parts Ltd.", currency="CNY")
    covers[customer.pk] = Decimal("300000.00")
    covers[other.pk] = Decimal("100000.00")
    _insured_hold(organization, admin_user)
    make_invoice(organization, customer, amount="320000.00", issue_date=dt.date(2026, 3, 20))

    held = services.credit_hold_check_many(organization=organization, invoices=[
        (customer, Decimal("20000.00"), "CNY"), (customer, Decimal("20000.00"), "CNY"),
        (other, Decimal("150000.00"), "CNY")])

    assert set(held) == {customer.pk}  # other: 150,000.00 within 100,000.00 + 50,000.00
    message, refused = held[customer.pk]
    assert refused
    assert ("Exposure 320,000.00 CNY plus this invoice (40,000.00 CNY) exceeds the insurance cover in force of "
            "300,000.00 CNY plus the uninsured appetite of 50,000.00 CNY: 350,000.00 CNY allowed.") in message
    # The batch is one question to the registry, on the organization's today.
    assert covers.asked[-1] == (sorted([customer.pk, other.pk]), dt.date(2026, 3, 31))


def test_warn_mode_allows_and_raises_the_hold_alert(organization, customer, admin_user, covers):
    covers[customer.pk] = Decimal("1000.00")
    _insured_hold(organization, admin_user, appetite="0", mode=HoldMode.WARN)

    invoice = make_invoice(organization, customer, amount="1000.01", issue_date=dt.date(2026, 3, 30))

    assert invoice.credit_warning == (
        "上海华东贸易有限公司 is on credit hold: Exposure 0.00 CNY plus this invoice (1,000.01 CNY) exceeds the "
        "insurance cover in force of 1,000.00 CNY plus the uninsured appetite of 0.00 CNY: 1,000.00 CNY allowed.")
    alert = CreditAlert.objects.get(organization=organization, kind=AlertKind.HOLD_WARNING)
    assert alert.customer_id == customer.pk and alert.data == {"amount": "1000.01"}


def test_insured_hold_checks_customers_without_a_credit_file(organization, customer, admin_user, no_provider):
    # No insurance app answering: every customer's cover is zero, so only the appetite may be invoiced.
    _insured_hold(organization, admin_user, appetite="500.00")
    assert selectors.credit_file(organization, customer) is None
    make_invoice(organization, customer, amount="500.00", issue_date=dt.date(2026, 3, 30))
    with pytest.raises(DomainError, match=r"cover in force of 0\.00 CNY plus the uninsured appetite of 500\.00 CNY"):
        make_invoice(organization, customer, amount="0.01", issue_date=dt.date(2026, 3, 30))


def test_off_by_default_and_charges_invoices_pass_audited(organization, customer, admin_user, covers):
    make_invoice(organization, customer, amount="900000.00", issue_date=dt.date(2026, 3, 30))  # off: no check
    _insured_hold(organization, admin_user, appetite="0")
    charges = make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 3, 30), kind="charges")
    entry = AuditEntry.objects.get(organization=organization, action="invoice.created", object_id=str(charges.pk))
    assert "exceeds the insurance cover in force of 0.00 CNY" in entry.after["credit_hold_passed"]


def test_appetite_is_a_strict_amount(organization, admin_user):
    with pytest.raises(DomainError):
        services.policy_update(organization=organization, actor=admin_user, uninsured_appetite="-1")
    with pytest.raises(DomainError):
        services.policy_update(organization=organization, actor=admin_user, uninsured_appetite="0.001")


def test_hold_reasons_on_the_credit_page_name_the_insured_hold(organization, customer, admin_user, covers):
    covers[customer.pk] = Decimal("300000.00")
    make_invoice(organization, customer, amount="360000.00", issue_date=dt.date(2026, 3, 20))  # before the setting
    _insured_hold(organization, admin_user)
    assert selectors.hold_reasons(organization, customer, dt.date(2026, 3, 31)) == [
        "Exposure 360,000.00 CNY plus this invoice (0.00 CNY) exceeds the insurance cover in force of "
        "300,000.00 CNY plus the uninsured appetite of 50,000.00 CNY: 350,000.00 CNY allowed."]


def _flat_grade_policy(limit):
    return {grade: {"limit": limit, "terms_days": 30, "conditions": "Open account."} for grade in "ABCDE"}


def test_recommendation_shows_cover_and_is_capped_when_the_insured_hold_is_on(organization, customer, admin_user,
                                                                              covers):
    covers[customer.pk] = Decimal("300000.00")
    services.policy_update(organization=organization, actor=admin_user, grade_policy=_flat_grade_policy("1000000"))

    score = services.customer_score(organization=organization, customer=customer)
    assert score.provisional and score.recommended_limit == Decimal("500000.00")  # half the grade's limit
    assert score.cover_in_force == Decimal("300000.00")

    _insured_hold(organization, admin_user)
    score = CreditScore.objects.get(pk=services.customer_score(organization=organization, customer=customer).pk)
    assert score.recommended_limit == Decimal("350000.00")
    assert score.cover_in_force == Decimal("300000.00")
    assert score.recommended_conditions.endswith(
        "Capped at the insurance cover in force of 300,000.00 CNY plus the uninsured appetite of 50,000.00 CNY "
        "(the grade gives 500,000.00 CNY).")


def test_without_a_provider_the_score_has_no_cover(organization, customer, no_provider):
    score = services.customer_score(organization=organization, customer=customer)
    assert score.cover_in_force is None
    assert "Capped" not in score.recommended_conditions


def test_the_insured_hold_message_in_chinese(organization, customer, admin_user, covers):
    covers[customer.pk] = Decimal("300000.00")
    _insured_hold(organization, admin_user)
    make_invoice(organization, customer, amount="320000.00", issue_date=dt.date(2026, 3, 20))
    with translation.override("zh-hans"), pytest.raises(DomainError) as error:
        make_invoice(organization, customer, amount="40000.00", issue_date=dt.date(2026, 3, 30))
    assert ("风险敞口 320,000.00 CNY 加上本发票（40,000.00 CNY）超过有效的保险买方信用限额 300,000.00 CNY "
            "加未投保风险容忍额 50,000.00 CNY：最多允许 350,000.00 CNY。") in error.value.message
