"""The customer page as the hub of the relationship (issue 14 item 1): its figures, what credit and
dunning register on it (limit, score, hold, collector, disputes, promises, plans, one stream), the
hold said beside "New invoice" and on the invoice form, and a fixed number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credit import services as credit_services
from credit.models import CreditPolicy, HoldMode
from dunning import services as dunning_services
from dunning.models import EventKind
from tenancy.models import Role
from tests.factories import CustomerFactory, MembershipFactory, make_invoice, make_payment

TODAY = dt.datetime(2026, 3, 31, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai
AS_OF = dt.date(2026, 3, 31)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


def _grow(organization, customer, actor, n: int, *, tag: str) -> list:
    """n of everything the hub shows: overdue invoices, payments, timeline events, disputes, promises, plans."""
    invoices = [make_invoice(organization, customer, amount="1000.00", issue_date=dt.date(2026, 1, 1),
                             due_date=dt.date(2026, 1, 31), number=f"{tag}-{i}") for i in range(4 * n)]
    for i in range(n):
        make_payment(organization, customer, amount="10.00", received_on=dt.date(2026, 3, 1), auto_allocate=False,
                     reference=f"{tag}-PAY-{i}")
        dunning_services.timeline_add(organization=organization, customer=customer, kind=EventKind.CALL,
                                      summary=f"{tag} call {i}", actor_label="Li Wei")
        dunning_services.dispute_open(organization=organization, actor=actor, invoice=invoices[4 * i],
                                      reason="price", amount=Decimal("100.00"))
        dunning_services.promise_create(organization=organization, actor=actor, customer=customer,
                                        invoices=[invoices[4 * i + 1]], amount=Decimal("500.00"),
                                        promised_date=dt.date(2026, 4, 10))
        dunning_services.payment_plan_create(organization=organization, actor=actor, customer=customer,
                                             invoices=[invoices[4 * i + 2]],
                                             installments=[dt.date(2026, 4, 30), dt.date(2026, 5, 31)])
    return invoices


@pytest.fixture
def hub(organization, customer, credit_manager):
    """A customer with a limit, a score, a collector and one of each collection matter."""
    credit_services.credit_limit_apply(organization=organization, actor=None, customer=customer,
                                       limit=Decimal("50000"), terms_days=30, source="test")
    credit_services.customer_score(organization=organization, customer=customer)
    dunning_services.customer_dunning_set(organization=organization, actor=credit_manager, customer=customer,
                                          collector=credit_manager)
    current = make_invoice(organization, customer, amount="2000.00", issue_date=dt.date(2026, 3, 20),
                           due_date=dt.date(2026, 4, 19), number="CUR-1")
    invoices = _grow(organization, customer, credit_manager, 1, tag="A")
    return {"invoices": invoices, "current": current}


def test_the_hub_shows_balance_overdue_and_oldest_days_with_the_aging(client, organization, customer, hub,
                                                                     credit_manager):
    client.force_login(credit_manager)

    response = client.get(reverse("customer_detail", args=[customer.pk]))

    # 4 invoices of 1,000.00 due 2026-01-31 (59 days overdue), one of 2,000.00 not yet due, and a
    # payment of 10.00 left unapplied.
    [figures] = response.context["figures"]
    assert (figures.currency, figures.balance, figures.overdue, figures.oldest_days) == (
        "CNY", Decimal("6000.00"), Decimal("4000.00"), 59)
    cells = {bucket.key: value for bucket, value in response.context["aging_cells"]}
    assert cells["current"] == Decimal("2000.00") and cells["d31_60"] == Decimal("4000.00")
    html = response.content.decode()
    assert 'data-testid="figure-overdue-CNY"' in html and "59 days" in html
    assert 'data-testid="unapplied-CNY"' in html


def test_the_hub_shows_what_credit_and_dunning_know(client, organization, customer, hub, credit_manager):
    client.force_login(credit_manager)

    response = client.get(reverse("customer_detail", args=[customer.pk]))

    panels = {panel.key: panel.context for panel in response.context["panels"]}
    credit = panels["credit"]
    assert credit["limit"] == Decimal("50000") and credit["exposure"].outstanding == Decimal("6000.00")
    assert credit["headroom"] == Decimal("44000.00") and credit["used_percent"] == 12
    assert credit["score"] is not None and credit["score"].grade in "ABCDE"
    collections = panels["collections"]
    assert collections["collector"] == credit_manager
    assert [d.invoice.number for d in collections["disputes"]] == ["A-0"]
    assert [[i.number for i in p.invoices.all()] for p in collections["promises"]] == [["A-1"]]
    assert [p.next_installment.due_date for p in collections["plans"]] == [dt.date(2026, 4, 30)]
    # One stream: the call, the dispute, the promise and the plan from the timeline, and the payment.
    kinds = [entry.kind for entry in panels["stream"]["entries"]]
    assert {"call", "dispute_opened", "promise_made", "plan_created", "payment"} <= set(kinds)
    html = response.content.decode()
    assert f'data-testid="credit-grade">{credit["score"].grade}<' in html
    assert "A call 0" in html and "A-PAY-0" in html
    for name in ("credit:customer", "dunning:timeline", "dunning:customer_settings", "dunning:evidence"):
        assert reverse(name, args=[customer.pk]) in html, name


def test_the_stream_is_newest_first_with_payments_between_events(organization, customer, credit_manager):
    from dunning.hub import stream_panel

    with time_machine.travel(dt.datetime(2026, 2, 1, 2, 0, tzinfo=dt.UTC), tick=False):
        dunning_services.timeline_add(organization=organization, customer=customer, kind=EventKind.CALL,
                                      summary="early call")
    make_payment(organization, customer, amount="25.00", received_on=dt.date(2026, 3, 1), reference="MID")
    dunning_services.timeline_add(organization=organization, customer=customer, kind=EventKind.CALL,
                                  summary="late call")

    entries = stream_panel(organization, customer, AS_OF)["entries"]

    assert [(e.day, e.summary) for e in entries] == [
        (AS_OF, "late call"), (dt.date(2026, 3, 1), "MID"), (dt.date(2026, 2, 1), "early call")]
    assert entries[1].amount == Decimal("25.00") and entries[1].kind == "payment"


def test_a_blacklisted_customer_never_reads_active_beside_new_invoice(client, organization, customer,
                                                                      credit_manager):
    make_invoice(organization, customer, amount="500.00", issue_date=dt.date(2026, 3, 1))
    credit_services.blacklist_set(organization=organization, actor=credit_manager, customer=customer,
                                  blacklisted=True, reason="Fraud suspected")
    client.force_login(credit_manager)

    html = client.get(reverse("customer_detail", args=[customer.pk])).content.decode()

    assert 'data-testid="customer-hold-badge">Blacklisted<' in html
    assert 'data-testid="customer-status"' not in html and ">Active<" not in html
    assert "is blacklisted (Fraud suspected)." in html
    assert "New invoices to this customer are refused" in html
    assert 'data-testid="new-invoice-refused"' in html and 'data-testid="new-invoice"' not in html


def test_a_customer_over_its_limit_in_warn_mode_is_on_hold_and_may_still_be_invoiced(client, organization,
                                                                                     customer, credit_manager):
    make_invoice(organization, customer, amount="500.00", issue_date=dt.date(2026, 3, 1))
    credit_services.credit_limit_apply(organization=organization, actor=None, customer=customer,
                                       limit=Decimal("100"), terms_days=30, source="test")
    credit_services.policy_ensure(organization)
    CreditPolicy.objects.filter(organization=organization).update(hold_mode=HoldMode.WARN)
    client.force_login(credit_manager)

    html = client.get(reverse("customer_detail", args=[customer.pk])).content.decode()

    assert 'data-testid="customer-hold-badge">On credit hold<' in html and ">Active<" not in html
    assert "exceeds the credit limit of" in html and "plus this invoice" not in html
    assert "allowed, with a warning" in html and 'data-testid="new-invoice"' in html


def test_a_customer_in_good_standing_reads_active(client, organization, customer, hub, credit_manager):
    client.force_login(credit_manager)

    html = client.get(reverse("customer_detail", args=[customer.pk])).content.decode()

    assert 'data-testid="customer-status">Active<' in html and "customer-hold" not in html
    assert 'data-testid="new-invoice"' in html


def test_the_invoice_form_says_the_chosen_customer_is_on_hold(client, organization, customer, credit_manager):
    credit_services.blacklist_set(organization=organization, actor=credit_manager, customer=customer,
                                  blacklisted=True, reason="Fraud suspected")
    good = CustomerFactory(organization=organization, name="Beijing Parts Co")
    client.force_login(credit_manager)

    held = client.get(reverse("invoice_create"), {"customer": customer.pk}).content.decode()
    fine = client.get(reverse("invoice_create"), {"customer": good.pk}).content.decode()
    posted = client.post(reverse("invoice_create"), {
        "customer": customer.pk, "number": "INV-H-1", "issue_date": "2026-03-30", "net_amount": "500.00",
        "tax_amount": "0", "currency": ""}).content.decode()

    assert 'data-testid="invoice-form-hold"' in held and "Blacklisted" in held
    assert "An invoice to this customer will be refused" in held
    assert 'data-testid="invoice-form-hold"' not in fine
    assert 'data-testid="invoice-form-hold"' in posted and "is on credit hold" in posted  # and the refusal


def test_the_invoice_form_ignores_another_organizations_customer(client, organization, other_organization,
                                                                 credit_manager):
    stranger = CustomerFactory(organization=other_organization, name="Rival Buyer")
    credit_services.blacklist_set(organization=other_organization,
                                  actor=MembershipFactory(organization=other_organization,
                                                          role=Role.CREDIT_MANAGER).user,
                                  customer=stranger, blacklisted=True, reason="theirs")
    client.force_login(credit_manager)

    html = client.get(reverse("invoice_create"), {"customer": stranger.pk}).content.decode()

    assert "Rival Buyer" not in html and "theirs" not in html


def test_a_viewer_sees_the_hub_without_forms_or_buttons_it_cannot_use(client, organization, customer, hub,
                                                                      viewer):
    client.force_login(viewer)

    html = client.get(reverse("customer_detail", args=[customer.pk])).content.decode()

    assert reverse("credit:customer", args=[customer.pk]) in html  # reading the credit file is fine
    assert reverse("dunning:customer_settings", args=[customer.pk]) not in html
    assert reverse("invoice_create") not in html and reverse("customer_update", args=[customer.pk]) not in html
    assert 'data-testid="customer-actions"' not in html


def _queries(client, customer) -> int:
    url = reverse("customer_detail", args=[customer.pk])
    client.get(url)  # warm: the session, the credit policy row
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_hub_costs_the_same_queries_for_a_long_history(client, organization, customer, hub, credit_manager):
    other = CustomerFactory(organization=organization, name="Beijing Parts Co")
    credit_services.credit_limit_apply(organization=organization, actor=None, customer=other,
                                       limit=Decimal("50000"), terms_days=30, source="test")
    credit_services.customer_score(organization=organization, customer=other)
    dunning_services.customer_dunning_set(organization=organization, actor=credit_manager, customer=other,
                                          collector=credit_manager)
    make_invoice(organization, other, amount="2000.00", issue_date=dt.date(2026, 3, 20),
                 due_date=dt.date(2026, 4, 19), number="B-CUR-1")
    _grow(organization, other, credit_manager, 6, tag="B")
    client.force_login(credit_manager)

    short, long = _queries(client, customer), _queries(client, other)

    assert short == long, (short, long)
    assert long <= 40


@pytest.mark.parametrize("search", ["华东", "Huadong Trading", "91310000MA1FL", "EXT-7"])
def test_the_credit_customer_list_finds_a_customer_by_name_legal_name_uscc_or_number(
        client, organization, other_organization, customer, credit_manager, search):
    customer.legal_name, customer.external_id = "Shanghai Huadong Trading Co., Ltd.", "EXT-7"
    customer.save()
    credit_services.profile_update(organization=organization, actor=credit_manager, customer=customer,
                                   uscc="91310000MA1FL0LL23")
    CustomerFactory(organization=organization, name="Beijing Parts Co")
    CustomerFactory(organization=other_organization, name="华东 Rival", external_id="EXT-7")
    client.force_login(credit_manager)

    response = client.get(reverse("credit:portfolio"), {"search": search})

    assert [row["customer"] for row in response.context["rows"]] == [customer]
    assert "Rival" not in response.content.decode()


def test_the_credit_customer_list_shows_grade_limit_exposure_and_hold(client, organization, customer,
                                                                      credit_manager):
    make_invoice(organization, customer, amount="500.00", issue_date=dt.date(2026, 3, 1))
    credit_services.credit_limit_apply(organization=organization, actor=None, customer=customer,
                                       limit=Decimal("100"), terms_days=30, source="test")
    credit_services.customer_score(organization=organization, customer=customer)
    client.force_login(credit_manager)

    response = client.get(reverse("credit:portfolio"))

    [row] = response.context["rows"]
    assert row["exposure"].outstanding == Decimal("500.00") and row["profile"].credit_limit == Decimal("100")
    assert [hold.label for hold in row["holds"]] == ["On credit hold"]
    assert row["profile"].latest_score.grade in "ABCDE"


def test_the_hub_lists_the_contact_person_phone_and_emails(client, organization, credit_manager):
    customer = CustomerFactory(organization=organization, name="Huadong", contact_name="王丽 Ms. Wang",
                               contact_phone="+86 21 6888 1234", contact_emails=["ap@huadong.example"])
    client.force_login(credit_manager)

    html = client.get(reverse("customer_detail", args=[customer.pk])).content.decode()

    assert "王丽 Ms. Wang" in html and 'href="tel:+86 21 6888 1234"' in html
    assert 'href="mailto:ap@huadong.example"' in html


def test_a_customer_is_saved_with_a_phone_and_a_malformed_phone_is_refused(client, organization, credit_manager):
    from receivables.models import Customer

    client.force_login(credit_manager)
    form = {"name": "Hubei Steel", "currency": "CNY", "payment_terms_days": "30", "language": "zh-hans",
            "segment": "standard", "status": "active", "contact_name": "Li Wei"}

    refused = client.post(reverse("customer_create"), {**form, "contact_phone": "call me maybe"})
    saved = client.post(reverse("customer_create"), {**form, "contact_phone": "(027) 8888-1234 ext. 12"})

    assert refused.status_code == 200 and "Enter a phone number" in refused.content.decode()
    customer = Customer.objects.get(organization=organization)
    assert saved.status_code == 302 and customer.contact_phone == "(027) 8888-1234 ext. 12"
    assert customer.contact_name == "Li Wei"


def test_the_api_takes_and_returns_the_contact_phone_and_refuses_a_malformed_one(organization):
    from receivables.models import Customer
    from tests.api.conftest import key_client

    api = key_client(organization)
    body = {"name": "Hubei Steel", "currency": "CNY", "contact_name": "Li Wei", "contact_phone": "+86 27 8888 1234"}

    refused = api.post("/api/v1/customers/", {**body, "contact_phone": "ring ring"}, format="json")
    created = api.post("/api/v1/customers/", body, format="json")

    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["contact_phone"][0]["message"].startswith("Enter a phone number")
    assert created.status_code == 201, created.json()
    assert (created.json()["contact_name"], created.json()["contact_phone"]) == ("Li Wei", "+86 27 8888 1234")
    assert Customer.objects.filter(organization=organization).count() == 1


def test_the_customer_list_shows_a_hold_instead_of_active(client, organization, customer, credit_manager):
    credit_services.blacklist_set(organization=organization, actor=credit_manager, customer=customer,
                                  blacklisted=True, reason="Fraud suspected")
    CustomerFactory(organization=organization, name="Beijing Parts Co")
    client.force_login(credit_manager)

    html = client.get(reverse("customer_list")).content.decode()

    rows = {row.split("</a>")[0].rsplit(">", 1)[-1]: row for row in html.split("<tr")[1:] if "</a>" in row}
    assert 'data-testid="customer-hold-badge">Blacklisted<' in rows[customer.name]
    assert ">Active<" not in rows[customer.name] and ">Active<" in rows["Beijing Parts Co"]
