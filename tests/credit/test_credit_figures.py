"""Issue 12, credit model and hold figures: Altman Z' and the model choice, zero liabilities, stale
statements, review scheduling by grade, company size in a reference currency, the hold with a missing
FX rate, and disputed / payment-plan invoices in the hold."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from credit import selectors, services
from credit.altman import ZModel, Zone, altman_z_prime, z_model_for
from credit.models import CreditPolicy, CreditProfile, HoldMode
from credit.scoring import scorecard
from receivables import services as ledger
from tenancy.errors import DomainError, ErrorCode
from tests.api.conftest import error_of, key_client
from tests.factories import CustomerFactory, OrganizationFactory, make_invoice, make_payment

TODAY = dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai
AS_OF = dt.date(2026, 3, 31)
STATEMENT = {"revenue": "50000000", "ebit": "4000000", "net_income": "3000000", "current_assets": "20000000",
             "current_liabilities": "12000000", "total_assets": "40000000", "total_liabilities": "22000000",
             "retained_earnings": "9000000", "equity": "18000000"}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def _factors(score):
    return {f["key"]: f for f in score.factors}


# --- 19. Altman Z' for private manufacturers ---------------------------------------------------

def test_altman_z_prime_worked_example():
    """Z' = 0.717 X1 + 0.847 X2 + 3.107 X3 + 0.420 X4 + 0.998 X5 (Altman 2000), zones 1.23 / 2.90.
    WC 8 M, RE 9 M, EBIT 4 M, book equity 18 M, sales 50 M, TA 40 M, TL 22 M:
    0.717*0.2 + 0.847*0.225 + 3.107*0.1 + 0.420*(18/22) + 0.998*1.25 = 2.23581... -> grey zone."""
    z = altman_z_prime(working_capital=Decimal(8_000_000), retained_earnings=Decimal(9_000_000),
                       ebit=Decimal(4_000_000), book_value_equity=Decimal(18_000_000), sales=Decimal(50_000_000),
                       total_assets=Decimal(40_000_000), total_liabilities=Decimal(22_000_000))
    assert z.model == ZModel.Z_PRIME
    assert z.value == Decimal("2.2358")
    assert z.zone == Zone.GREY
    assert altman_z_prime(working_capital=Decimal(0), retained_earnings=Decimal(0), ebit=Decimal(10),
                          book_value_equity=Decimal(100), sales=Decimal(900), total_assets=Decimal(1000),
                          total_liabilities=Decimal(900)).zone == Zone.DISTRESS  # 0.03107 + 0.0467 + 0.8982 = 0.976


def test_z_model_by_company_type():
    assert z_model_for(is_public=True, is_manufacturer=True, country="DE") == ZModel.Z
    assert z_model_for(is_public=False, is_manufacturer=True, country="DE") == ZModel.Z_PRIME
    assert z_model_for(is_public=False, is_manufacturer=False, country="DE") == ZModel.Z_DOUBLE_PRIME
    assert z_model_for(is_public=True, is_manufacturer=True, country="CN") == ZModel.Z_DOUBLE_PRIME  # emerging
    assert z_model_for(is_public=False, is_manufacturer=True) == ZModel.Z_PRIME


def test_private_manufacturer_is_scored_with_z_prime(organization, credit_manager):
    customer = CustomerFactory(organization=organization, name="Müller Maschinenbau GmbH", country="DE")
    services.profile_update(organization=organization, actor=credit_manager, customer=customer,
                            is_manufacturer=True, ownership="private", country="DE")
    services.financial_statement_set(organization=organization, actor=credit_manager, customer=customer,
                                     year=2025, **STATEMENT)

    score = services.customer_score(organization=organization, customer=customer)

    assert score.inputs["financials"]["model"] == "z1"
    assert _factors(score)["financial_strength"]["value"] == "Z' 2.24 (grey, 2025)"
    # grey zone: 0.3 + 0.5 * (2.2358 - 1.23) / (2.90 - 1.23) = 0.60114 of 25 points
    assert _factors(score)["financial_strength"]["points"] == "15.0"


# --- 20. no debt is full marks ---------------------------------------------------------------

def test_zero_liabilities_score_full_marks_not_no_data():
    inputs = {"as_of": "2026-03-31", "payment": None, "exposure": "0", "limit": None, "founding_year": None,
              "signals": [], "financials": {"year": 2025, "model": "z2", "revenue": "1000000", "ebit": "100",
                                            "working_capital": "200", "retained_earnings": "300",
                                            "total_assets": "1000", "total_liabilities": "0", "equity": "1000",
                                            "market_value_equity": None}}
    factor = {f.key: f for f in scorecard(inputs).factors}["financial_strength"]
    assert not factor.missing
    assert factor.points == Decimal("25.0")
    assert factor.value == "no liabilities (2025)"


# --- 21. statements older than 18 months ------------------------------------------------------

def test_statement_older_than_18_months_counts_as_missing(organization, customer, credit_manager):
    services.financial_statement_set(organization=organization, actor=credit_manager, customer=customer,
                                     year=2023, **STATEMENT)  # ended 2023-12-31, usable until 2025-06-30

    score = services.customer_score(organization=organization, customer=customer)

    factor = _factors(score)["financial_strength"]
    assert factor["missing"] is True
    assert factor["value"] == "statement 2023 older than 18 months"
    assert score.inputs["financials"] is None
    assert services.score_reproduce(score).factors_json() == score.factors


def test_statement_within_18_months_is_used(organization, customer, credit_manager):
    services.financial_statement_set(organization=organization, actor=credit_manager, customer=customer,
                                     year=2024, **STATEMENT)  # usable until 2026-06-30
    score = services.customer_score(organization=organization, customer=customer)
    assert _factors(score)["financial_strength"]["missing"] is False


def test_credit_file_page_says_the_statement_is_too_old(client, organization, customer, credit_manager):
    services.financial_statement_set(organization=organization, actor=credit_manager, customer=customer,
                                     year=2023, **STATEMENT)
    client.force_login(credit_manager)
    page = client.get(f"/credit/customers/{customer.pk}/").content.decode()
    assert "The 2023 statement is older than 18 months (usable until 2025-06-30)" in page


# --- 22. next review by grade ------------------------------------------------------------------

def test_score_run_schedules_next_review_by_grade(organization, credit_manager):
    strong = CustomerFactory(organization=organization, name="Strong")
    weak = CustomerFactory(organization=organization, name="Weak")
    services.profile_update(organization=organization, actor=credit_manager, customer=strong, founding_year=2000)
    services.financial_statement_set(organization=organization, actor=credit_manager, customer=strong, year=2025,
                                     **STATEMENT)
    for month in (1, 2, 3):  # paid 120 days late, twice sued, distressed accounts
        make_invoice(organization, weak, amount="1000.00", issue_date=dt.date(2025, month, 1),
                     due_date=dt.date(2025, month, 1))
        make_payment(organization, weak, amount="1000.00", received_on=dt.date(2025, month + 4, 1))
    for _ in range(2):
        services.signal_record(organization=organization, actor=credit_manager, customer=weak, kind="litigation",
                               severity="high", description="Sued by a supplier", observed_on=dt.date(2026, 3, 1))
    services.financial_statement_set(
        organization=organization, actor=credit_manager, customer=weak, year=2025, revenue="900", ebit="10",
        net_income="5", current_assets="100", current_liabilities="150", total_assets="1000",
        total_liabilities="900", retained_earnings="-100", equity="100")

    scores = {s.customer_id: s for s in services.scores_run(organization=organization, as_of=AS_OF)}

    profiles = {p.customer_id: p for p in CreditProfile.objects.filter(organization=organization)}
    assert scores[weak.pk].grade in ("D", "E")
    assert profiles[weak.pk].next_review_on == dt.date(2026, 4, 30)  # monthly
    assert scores[strong.pk].grade in ("A", "B", "C")
    assert profiles[strong.pk].next_review_on == dt.date(2026, 6, 30)  # quarterly


def test_score_run_keeps_a_sooner_review(organization, customer, credit_manager):
    services.review_schedule(organization=organization, actor=credit_manager, customer=customer,
                             on=dt.date(2026, 4, 10))
    services.customer_score(organization=organization, customer=customer)
    assert CreditProfile.objects.get(customer=customer).next_review_on == dt.date(2026, 4, 10)


def test_approved_limit_schedules_the_next_review(organization, customer, collector, credit_manager):
    services.review_schedule(organization=organization, actor=credit_manager, customer=customer,
                             on=dt.date(2026, 4, 10))
    request = services.limit_request_create(organization=organization, actor=collector, customer=customer,
                                            requested_limit="50000", requested_terms_days=30, reason="New orders")
    services.limit_request_approve(organization=organization, actor=credit_manager, request=request)
    profile = CreditProfile.objects.select_related("latest_score").get(customer=customer)
    months = 1 if profile.latest_score.grade in ("D", "E") else 3
    assert profile.next_review_on == services.add_months(AS_OF, months)


# --- 23. company size in a reference currency ---------------------------------------------------

def test_company_size_is_read_in_usd_for_a_yen_organization(db, django_user_model):
    org = OrganizationFactory(name="Tokyo KK", slug="tokyo", base_currency="JPY", timezone="Asia/Tokyo")
    customer = CustomerFactory(organization=org, name="Osaka Shoji", currency="JPY", country="JP")
    ledger.fx_rate_set(organization=org, actor=None, currency="USD", rate_date=dt.date(2026, 1, 1),
                       rate=Decimal("150"))
    services.financial_statement_set(organization=org, actor=None, customer=customer, year=2025,
                                     **{**STATEMENT, "revenue": "15000000000"})

    score = services.customer_score(organization=org, customer=customer)

    # JPY 15 billion = USD 100 million: log10(100) / 3 of 8 points (JPY units would give full marks)
    size = _factors(score)["company_size"]
    assert (size["value"], size["points"]) == ("100.0 M USD", "5.3")
    assert score.inputs["financials"]["revenue_reference"] == "100000000.00"


def test_company_size_without_a_rate_is_missing_and_named(organization, customer, credit_manager):
    services.financial_statement_set(organization=organization, actor=credit_manager, customer=customer,
                                     year=2025, **STATEMENT)
    score = services.customer_score(organization=organization, customer=customer)
    size = _factors(score)["company_size"]
    assert size["missing"] is True
    assert size["value"] == "no USD to CNY rate on or before 2026-03-31"


# --- 7. missing FX rate in the credit hold ------------------------------------------------------

@pytest.fixture
def dollar_customer(organization):
    customer = CustomerFactory(organization=organization, name="Pacific Imports LLC", currency="USD")
    services.credit_limit_apply(organization=organization, actor=None, customer=customer,
                                limit=Decimal("100000"), terms_days=30, source="test")
    return customer


USD_INVOICE = {"number": "INV-USD-1", "issue_date": "2026-03-30", "net_amount": "50000.00", "currency": "USD"}
NO_RATE = ("No exchange rate from USD to CNY on or before 2026-03-31, so the exposure cannot be checked "
           "against the credit limit of 100,000.00 CNY; add the rate under FX rates.")


def test_missing_rate_refuses_the_invoice_naming_the_rate(organization, dollar_customer):
    response = key_client(organization).post("/api/v1/invoices/", {"customer": dollar_customer.pk, **USD_INVOICE},
                                             format="json")
    assert response.status_code == 409, response.json()
    error = error_of(response)
    assert error["code"] == "credit_hold"
    assert NO_RATE in error["message"]


def test_missing_rate_warns_in_warn_mode(organization, dollar_customer):
    CreditPolicy.objects.filter(organization=organization).update(hold_mode=HoldMode.WARN)
    response = key_client(organization).post("/api/v1/invoices/", {"customer": dollar_customer.pk, **USD_INVOICE},
                                             format="json")
    assert response.status_code == 201
    assert NO_RATE in response.json()["warnings"][0]


def test_with_the_rate_the_dollar_invoice_counts_in_yuan(organization, dollar_customer):
    ledger.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 3, 1),
                       rate=Decimal("7.1"))
    with pytest.raises(DomainError) as error:
        services.credit_hold_check(organization=organization, customer=dollar_customer,
                                   amount=Decimal("50000"), currency="USD")
    assert error.value.code == ErrorCode.CREDIT_HOLD
    assert "plus this invoice (355,000.00 CNY) exceeds the credit limit of 100,000.00 CNY" in error.value.message


def test_open_invoice_without_rate_also_names_it(organization, dollar_customer):
    CreditPolicy.objects.filter(organization=organization).update(hold_mode=HoldMode.OFF)
    make_invoice(organization, dollar_customer, amount="10.00", issue_date=dt.date(2026, 3, 1), currency="USD")
    CreditPolicy.objects.filter(organization=organization).update(hold_mode=HoldMode.REFUSE)
    reasons = selectors.hold_reasons(organization, dollar_customer, AS_OF)
    assert NO_RATE in reasons


# --- 24. disputed and payment-plan invoices in the hold -----------------------------------------

@pytest.fixture
def long_overdue(organization, customer):
    services.profile_ensure(organization=organization, customer=customer)
    return make_invoice(organization, customer, amount="1000.00", issue_date=dt.date(2025, 11, 1),
                        due_date=dt.date(2025, 12, 1))  # 120 days overdue, hold threshold 60


def test_disputed_invoice_is_not_overdue_for_the_hold_by_default(organization, customer, collector, admin_user,
                                                                 long_overdue):
    from dunning import services as dunning

    assert selectors.hold_reasons(organization, customer, AS_OF)  # overdue: on hold
    dunning.dispute_open(organization=organization, actor=collector, invoice=long_overdue, reason="quality")

    assert selectors.hold_reasons(organization, customer, AS_OF) == []
    services.policy_update(organization=organization, actor=admin_user, hold_counts_disputed=True)
    assert selectors.hold_reasons(organization, customer, AS_OF) == [
        "An invoice is 120 days overdue; the hold threshold is 60 days."]


def test_invoice_under_payment_plan_is_not_overdue_for_the_hold_by_default(organization, customer, collector,
                                                                           admin_user, long_overdue):
    from dunning import services as dunning

    dunning.payment_plan_create(organization=organization, actor=collector, customer=customer,
                                invoices=[long_overdue],
                                installments=[(dt.date(2026, 4, 30), "500.00"), (dt.date(2026, 5, 31), "500.00")])

    assert selectors.hold_reasons(organization, customer, AS_OF) == []
    services.policy_update(organization=organization, actor=admin_user, hold_counts_payment_plans=True)
    assert selectors.hold_reasons(organization, customer, AS_OF) == [
        "An invoice is 120 days overdue; the hold threshold is 60 days."]
