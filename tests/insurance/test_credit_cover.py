"""Insurance tells the credit hold and the credit recommendation each buyer's cover in force
(issue 16 item 2: never invoice a customer beyond cover + uninsured appetite), with real cover
decisions written through insurance's services."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from credit import services as credit_services
from credit.cover import cover_in_force
from credit.models import HoldMode
from insurance import credit_cover, services
from receivables.models import Invoice
from receivables.services.fx import fx_rate_set
from tenancy.errors import DomainError, ErrorCode
from tests.api.conftest import key_client
from tests.factories import PASSWORD, CustomerFactory

from .conftest import POLICY_TERMS, grant_cover, invoice

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 3, 31)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC), tick=False):  # 12:00 in Shanghai
        yield


def _insured_hold(organization, admin_user, appetite="50000.00", mode=HoldMode.REFUSE):
    credit_services.policy_update(organization=organization, actor=admin_user, insured_hold=True,
                                  uninsured_appetite=appetite, hold_mode=mode)


def test_worked_example_cover_300000_appetite_50000(organization, admin_user, policy, buyer):
    grant_cover(organization, policy, buyer, "300000.00")
    invoice(organization, buyer, "320000.00", issued=dt.date(2026, 3, 20), due=dt.date(2026, 4, 19))
    _insured_hold(organization, admin_user)

    with pytest.raises(DomainError) as error:
        invoice(organization, buyer, "40000.00", issued=TODAY, due=dt.date(2026, 4, 30), number="OVER")

    assert error.value.code == ErrorCode.CREDIT_HOLD
    assert error.value.message == (
        "Wuhan Optics Co. is on credit hold: Exposure 320,000.00 CNY plus this invoice (40,000.00 CNY) exceeds the "
        "insurance cover in force of 300,000.00 CNY plus the uninsured appetite of 50,000.00 CNY: 350,000.00 CNY "
        "allowed. A credit manager can raise the limit or lift the hold.")
    assert not Invoice.objects.filter(number="OVER").exists()
    # An increase granted by the insurer lets it through: 400,000.00 + 50,000.00 >= 360,000.00.
    request = services.cover_request_create(organization=organization, actor=None, policy=policy, customer=buyer,
                                            request_type="increase", amount=Decimal("400000.00"), requested_on=TODAY)
    services.cover_request_decide(organization=organization, actor=None, request=request, decision="approved",
                                  decided_on=TODAY)
    assert invoice(organization, buyer, "40000.00", issued=TODAY, due=dt.date(2026, 4, 30)).credit_warning is None


def test_cover_in_force_follows_decisions_expiry_exclusion_and_policy_currency(organization, credit_manager, policy,
                                                                             buyer):
    expired = CustomerFactory(organization=organization, name="Expired Cover Ltd.", currency="CNY", country="CN")
    refused_later = CustomerFactory(organization=organization, name="Refused Later Ltd.", currency="CNY", country="CN")
    euro_buyer = CustomerFactory(organization=organization, name="Lyon Optique SA", currency="EUR", country="FR")
    grant_cover(organization, policy, buyer, "120000.00")
    grant_cover(organization, policy, expired, "80000.00", valid_until=dt.date(2026, 3, 30))
    grant_cover(organization, policy, refused_later, "60000.00")
    request = services.cover_request_create(organization=organization, actor=None, policy=policy,
                                            customer=refused_later, request_type="increase",
                                            amount=Decimal("90000.00"), requested_on=dt.date(2026, 3, 1))
    services.cover_request_decide(organization=organization, actor=None, request=request, decision="refused",
                                  reason_code="R1", reason_text="Weak accounts", decided_on=dt.date(2026, 3, 2))
    # A second policy in euros: its cover is converted at the date's rate (7.8123 CNY per EUR).
    euro_policy = services.policy_create(organization=organization, actor=None, **{
        **POLICY_TERMS, "policy_number": "P-2026-EUR", "currency": "EUR"})
    fx_rate_set(organization=organization, actor=None, currency="EUR", rate_date=dt.date(2026, 3, 1),
                rate=Decimal("7.8123"))
    grant_cover(organization, euro_policy, euro_buyer, "10000.00")
    grant_cover(organization, euro_policy, buyer, "1234.56")  # 1,234.56 x 7.8123 = 9,644.75 CNY (9,644.753 rounded half up)

    covers = cover_in_force(organization, [buyer.pk, expired.pk, refused_later.pk, euro_buyer.pk], TODAY)

    assert covers == {buyer.pk: Decimal("129644.75"), expired.pk: Decimal("0"),
                      refused_later.pk: Decimal("60000.00"), euro_buyer.pk: Decimal("78123.00")}
    # Before the decisions and after the policies' period: none.
    assert cover_in_force(organization, [buyer.pk], dt.date(2026, 1, 4)) == {buyer.pk: Decimal("0")}
    assert cover_in_force(organization, [buyer.pk], dt.date(2027, 1, 1)) == {buyer.pk: Decimal("0")}
    # Excluding the buyer from the CNY policy leaves only the euro cover.
    services.policy_update(organization=organization, actor=None, policy=policy, excluded_customers=[buyer])
    assert cover_in_force(organization, [buyer.pk], TODAY) == {buyer.pk: Decimal("9644.75")}


def test_many_at_once_with_real_cover(organization, admin_user, policy, buyer):
    other = CustomerFactory(organization=organization, name="Xi'an Lenses Ltd.", currency="CNY", country="CN")
    uninsured = CustomerFactory(organization=organization, name="No Cover Ltd.", currency="CNY", country="CN")
    grant_cover(organization, policy, buyer, "300000.00")
    grant_cover(organization, policy, other, "100000.00")
    invoice(organization, buyer, "320000.00", issued=dt.date(2026, 3, 20), due=dt.date(2026, 4, 19))
    _insured_hold(organization, admin_user, mode=HoldMode.WARN)

    held = credit_services.credit_hold_check_many(organization=organization, invoices=[
        (buyer, Decimal("15000.00"), "CNY"), (buyer, Decimal("15000.00"), "CNY"),  # 350,000.00: at the edge
        (other, Decimal("150000.01"), "CNY"), (uninsured, Decimal("50000.00"), "CNY")])

    assert set(held) == {other.pk}
    message, refused = held[other.pk]
    assert not refused
    assert message == (
        "Xi'an Lenses Ltd. is on credit hold: Exposure 0.00 CNY plus this invoice (150,000.01 CNY) exceeds the "
        "insurance cover in force of 100,000.00 CNY plus the uninsured appetite of 50,000.00 CNY: 150,000.00 CNY "
        "allowed.")


def test_recommendation_capped_and_cover_shown_on_the_credit_page(organization, admin_user, credit_manager, policy,
                                                                  buyer):
    grant_cover(organization, policy, buyer, "300000.00")
    credit_services.policy_update(organization=organization, actor=admin_user, grade_policy={
        grade: {"limit": "1000000", "terms_days": 30, "conditions": "Open account."} for grade in "ABCDE"})
    score = credit_services.customer_score(organization=organization, customer=buyer)
    assert (score.recommended_limit, score.cover_in_force) == (Decimal("500000.00"), Decimal("300000.00"))

    _insured_hold(organization, admin_user)
    score = credit_services.customer_score(organization=organization, customer=buyer)
    assert (score.recommended_limit, score.cover_in_force) == (Decimal("350000.00"), Decimal("300000.00"))
    assert "Capped at the insurance cover in force of 300,000.00 CNY" in score.recommended_conditions

    client = Client()
    assert client.login(username=credit_manager.username, password=PASSWORD)
    page = client.get(f"/credit/customers/{buyer.pk}/").content.decode()
    assert "350,000.00 CNY" in page
    assert 'data-testid="recommended-cover"' in page and "300,000.00 CNY" in page
    listed = key_client(organization).get("/api/v1/credit-scores/", {"customer": buyer.pk}).json()["results"]
    assert [(row["recommended_limit"], row["cover_in_force"]) for row in sorted(listed, key=lambda r: r["id"])] == [
        ("500000.0000", "300000.0000"), ("350000.0000", "300000.0000")]


def test_a_long_list_of_customers_reads_the_decisions_whole(organization, policy, buyer, monkeypatch):
    other = CustomerFactory(organization=organization, name="Not Asked Ltd.", currency="CNY", country="CN")
    grant_cover(organization, policy, buyer, "120000.00")
    grant_cover(organization, policy, other, "80000.00")
    monkeypatch.setattr(credit_cover, "LIST_LIMIT", 0)
    assert cover_in_force(organization, [buyer.pk], TODAY) == {buyer.pk: Decimal("120000.00")}
