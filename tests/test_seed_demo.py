"""`manage.py seed_demo`: the demo's shape, its audit chain, idempotency and --reset."""

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from receivables.management.commands.seed_demo import USCC_CHARS, USCC_WEIGHTS
from receivables.models import Allocation, CreditNote, Customer, FxRate, Invoice, Payment, WriteOff
from receivables.selectors import aging_report
from tenancy.models import Membership, Organization
from tenancy.money import quantize
from tenancy.selectors import audit_verify

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 15, 10, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()


def seed(*args: str) -> str:
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction rolled back at the end (each test nests in it)."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = seed()
        yield output
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    return Organization.objects.get(slug="demo")


@pytest.fixture
def northwind(seeded, db):
    return Organization.objects.get(slug="northwind")


def is_unified_social_credit_code(code: str) -> bool:
    if len(code) != 18 or any(c not in USCC_CHARS for c in code):
        return False
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31] == code[17]


def test_demo_organization_settings(demo):
    assert (demo.name, demo.base_currency, demo.timezone) == ("Inflow Demo Trading (上海)", "CNY", "Asia/Shanghai")


def test_customers_are_chinese_and_foreign(demo):
    customers = Customer.objects.filter(organization=demo)
    assert customers.count() == 40
    assert set(customers.values_list("currency", flat=True)) == {"CNY", "USD", "EUR"}
    assert set(customers.values_list("language", flat=True)) == {"zh-hans", "en"}
    assert all(c.contact_emails for c in customers)
    assert len(set(customers.values_list("segment", flat=True))) >= 4


def test_chinese_customers_carry_valid_unified_social_credit_codes(demo):
    codes = list(Customer.objects.filter(organization=demo, country="CN").values_list("registration_number", flat=True))
    assert len(codes) == 28
    assert all(is_unified_social_credit_code(code) for code in codes), codes


def test_domestic_invoices_carry_13_percent_vat(demo):
    for invoice in Invoice.objects.filter(organization=demo, currency="CNY")[:50]:
        assert invoice.tax_amount == quantize(invoice.net_amount * 13 / 100, "CNY") > 0


def test_a_year_of_history_up_to_today(demo):
    dates = Invoice.objects.filter(organization=demo).values_list("issue_date", flat=True)
    assert min(dates) >= TODAY - dt.timedelta(days=366)
    assert max(dates) <= TODAY
    assert len({d.replace(day=1) for d in dates}) == 12


def test_overdue_spreads_over_every_bucket(demo):
    report = aging_report(demo, TODAY)
    assert [b.key for b in report.buckets] == ["current", "d1_30", "d31_60", "d61_90", "d90_plus"]
    assert all(amount > 0 for amount in report.totals), report.totals


def test_invoices_in_every_status(demo):
    statuses = set(Invoice.objects.filter(organization=demo).values_list("status", flat=True))
    assert statuses == {"open", "partially_paid", "paid", "void", "written_off"}


def test_credit_notes_write_offs_and_unapplied_cash(demo):
    assert CreditNote.objects.filter(organization=demo).count() >= 5
    assert WriteOff.objects.filter(organization=demo).count() == 3
    assert Payment.objects.filter(organization=demo, unapplied_amount__gt=0).exists()
    assert CreditNote.objects.filter(organization=demo, unapplied_amount__gt=0).exists()


def test_ledger_is_consistent(demo):
    for invoice in Invoice.objects.filter(organization=demo):
        applied = sum(a.amount for a in Allocation.objects.filter(invoice=invoice))
        assert invoice.applied_amount == applied, invoice.number


def test_foreign_invoices_paid_in_cny_realize_exchange_differences(demo):
    cross = Allocation.objects.filter(organization=demo, payment_currency="CNY", amount__gt=0)
    assert cross.exists() and not cross.filter(fx_difference__isnull=True).exists()
    assert all(a.payment_amount > 0 and a.currency in ("USD", "EUR") for a in cross)
    from receivables.selectors import realized_fx_report

    assert realized_fx_report(demo, TODAY).total != 0


def test_monthly_fx_rates_for_usd_and_eur(demo):
    rates = FxRate.objects.filter(organization=demo)
    assert set(rates.values_list("currency", flat=True)) == {"USD", "EUR"}
    assert rates.filter(currency="USD").count() == 13


def test_audit_chains_verify(demo, northwind):
    for organization in (demo, northwind):
        verification = audit_verify(organization)
        assert verification.ok, verification.reason
    assert audit_verify(demo).checked > Invoice.objects.filter(organization=demo).count()


def test_demo_users_and_roles(demo, northwind):
    roles = dict(Membership.objects.filter(organization=demo).values_list("user__username", "role"))
    assert roles == {"demo-admin": "admin", "demo-credit": "credit_manager", "demo-collector": "collector",
                     "demo-viewer": "viewer", "demo-support": "viewer"}
    assert list(Membership.objects.filter(organization=northwind).values_list("user__username", "role")) == [
        ("demo-admin", "admin")]
    users = get_user_model().objects.filter(username__startswith="demo-")
    # Before check_password: under the tests' fast hasher it re-hashes the password it checks.
    assert len({u.password for u in users}) == 1  # one hash for all four (hashing is slow on purpose)
    assert users.get(username="demo-viewer").check_password("inflow-demo")


def test_northwind_is_small_and_in_euro(northwind):
    assert northwind.base_currency == "EUR"
    assert 0 < Customer.objects.filter(organization=northwind).count() <= 10
    assert aging_report(northwind, TODAY).currency == "EUR"


def test_output_prints_users_and_password(seeded):
    assert "password: inflow-demo" in seeded
    assert "demo-collector" in seeded


def test_each_demo_user_starts_in_its_documented_language(demo):
    # README: demo-admin, demo-viewer and demo-support in English; demo-credit and demo-collector in Chinese
    languages = dict(get_user_model().objects.filter(username__startswith="demo-")
                     .values_list("username", "profile__language"))
    assert languages == {"demo-admin": "en", "demo-credit": "zh-hans", "demo-collector": "zh-hans",
                         "demo-viewer": "en", "demo-support": "en"}


def test_the_support_user_opens_the_admin_scoped_and_view_only(demo, northwind, client):
    # given: demo-support is staff, not a superuser, a viewer of the demo organization only
    support = get_user_model().objects.get(username="demo-support")
    assert (support.is_staff, support.is_superuser) == (True, False)
    client.force_login(support)
    # when / then: the admin opens, lists the demo organization but not Northwind, and changes nothing
    assert client.get("/admin/").status_code == 200
    page = client.get("/admin/tenancy/organization/").content.decode()
    assert "Inflow Demo Trading" in page and "Northwind" not in page
    assert client.get("/admin/receivables/invoice/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403  # user admin: superusers only (issue 13)
    assert not support.has_perm("receivables.change_invoice")


def test_second_run_changes_nothing(demo):
    invoices = Invoice.objects.count()
    output = seed()
    assert "already exists" in output
    assert "demo-collector  zh-hans  Collector" in output  # make run shows the sign-ins every time
    assert Invoice.objects.count() == invoices
    assert Organization.objects.filter(slug__startswith="demo").count() == 1


def test_reset_retires_the_old_demo_and_rebuilds_it_identically(demo):
    old_totals = list(Invoice.objects.filter(organization=demo).order_by("number").values_list("number", "total_amount"))
    output = seed("--reset")
    assert "Demo data ready." in output
    retired = Organization.objects.get(pk=demo.pk)
    assert retired.slug == f"demo-retired-{demo.pk}"
    assert not Membership.objects.filter(organization=retired).exists()
    assert audit_verify(retired).ok
    fresh = Organization.objects.get(slug="demo")
    assert fresh.pk != demo.pk
    assert list(Invoice.objects.filter(organization=fresh).order_by("number")
                .values_list("number", "total_amount")) == old_totals
