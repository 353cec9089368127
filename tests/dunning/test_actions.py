"""One-click collection actions: promise, dispute, payment plan and call from a customer or an
invoice, with the money and date rules of dunning's services (issue 14 item 2)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from dunning import services
from dunning.models import (
    CollectionTask,
    CustomerEvent,
    Dispute,
    DisputeStatus,
    EventKind,
    Outcome,
    PromiseStatus,
    PromiseToPay,
    TaskStatus,
)
from dunning.services.disputes import disputes_open
from dunning.services.worklist import collection_call_log
from receivables.markers import invoice_markers
from tenancy.context_processors import Capabilities
from tenancy.errors import DomainError, PermissionDenied
from tenancy.money import Money, money_format
from tests.dunning.conftest import travel
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 4)


def cny(amount: str) -> str:
    """An amount as messages write it (tenancy.money.Money)."""
    return str(Money(Decimal(amount), "CNY"))


@pytest.fixture
def book(organization):
    """A customer with three overdue CNY invoices (oldest first) and one not yet due."""
    customer = CustomerFactory(organization=organization, name="Huadong Trading", currency="CNY",
                               contact_emails=["ap@huadong.example"])
    old = make_invoice(organization, customer, amount="300.00", issue_date=dt.date(2026, 1, 1),
                       due_date=dt.date(2026, 1, 10), number="A-1")
    middle = make_invoice(organization, customer, amount="500.00", issue_date=dt.date(2026, 1, 1),
                          due_date=dt.date(2026, 2, 1), number="A-2")
    recent = make_invoice(organization, customer, amount="200.00", issue_date=dt.date(2026, 2, 1),
                          due_date=dt.date(2026, 3, 1), number="A-3")
    future = make_invoice(organization, customer, amount="1000.00", issue_date=dt.date(2026, 3, 1),
                          due_date=dt.date(2026, 3, 31), number="A-4")
    return customer, [old, middle, recent, future]


# --- a call logged "promised to pay" is a real promise --------------------------------------

def test_a_promise_on_the_phone_covers_the_oldest_overdue_invoices_the_amount_needs(organization, collector, book):
    customer, (_old, _middle, _recent, _future) = book
    with travel(TODAY):
        logged = collection_call_log(organization=organization, actor=collector, customer=customer,
                                     outcome=Outcome.PROMISED, notes="Ms. Wang", promised_date=dt.date(2026, 3, 10),
                                     promised_amount=Decimal("600.00"))
    promise = logged.promise
    # 300 + 500 >= 600: the two oldest; the third stays dunned.
    assert sorted(promise.invoices.values_list("number", flat=True)) == ["A-1", "A-2"]
    assert (promise.amount, promise.currency, promise.status) == (Decimal("600.0000"), "CNY", PromiseStatus.OPEN)
    assert promise.pause_until == dt.date(2026, 3, 13)
    assert logged.task.status == TaskStatus.DONE and logged.task.last_outcome == Outcome.PROMISED
    kinds = set(CustomerEvent.objects.filter(customer=customer).values_list("kind", flat=True))
    assert {EventKind.PROMISE_MADE, EventKind.CALL} <= kinds


def test_a_promise_without_an_amount_covers_everything_overdue(organization, collector, book):
    customer, _invoices = book
    with travel(TODAY):
        promise = collection_call_log(organization=organization, actor=collector, customer=customer,
                                      outcome=Outcome.PROMISED, promised_date=TODAY).promise
    assert sorted(promise.invoices.values_list("number", flat=True)) == ["A-1", "A-2", "A-3"]
    assert promise.amount == Decimal("1000.0000")


def _dunned(organization, customer) -> set[int]:
    """Invoices today's dunning run would remind the customer of."""
    return {c.invoice_id for _customer, mail, calls, _rendered in services.dunning_preview(
        organization, today=TODAY, customer=customer) for c in [*mail, *calls]}


def test_a_promised_call_pauses_dunning_on_the_promised_invoices(organization, collector, book):
    customer, (old, middle, recent, _future) = book
    assert {old.pk, middle.pk, recent.pk} <= _dunned(organization, customer)
    with travel(TODAY):
        collection_call_log(organization=organization, actor=collector, customer=customer, outcome=Outcome.PROMISED,
                            promised_date=dt.date(2026, 3, 10), promised_amount=Decimal("300.00"))
    dunned = _dunned(organization, customer)
    assert old.pk not in dunned and middle.pk in dunned


def test_a_promise_in_the_past_or_above_the_balance_is_refused_and_changes_nothing(organization, collector, book):
    customer, _invoices = book
    with travel(TODAY), pytest.raises(DomainError) as past:
        collection_call_log(organization=organization, actor=collector, customer=customer, outcome=Outcome.PROMISED,
                            promised_date=dt.date(2026, 3, 3), promised_amount=Decimal("100.00"))
    assert past.value.message == "The promised date cannot be in the past." and past.value.field == "promised_date"
    with travel(TODAY), pytest.raises(DomainError) as too_much:
        collection_call_log(organization=organization, actor=collector, customer=customer, outcome=Outcome.PROMISED,
                            promised_date=TODAY, promised_amount=Decimal("2000.01"))
    assert too_much.value.field == "promised_amount"
    assert f"more than the {cny('2000')} these invoices owe" in too_much.value.message
    with travel(TODAY), pytest.raises(DomainError) as no_date:
        collection_call_log(organization=organization, actor=collector, customer=customer, outcome=Outcome.PROMISED)
    assert no_date.value.field == "promised_date"
    assert not PromiseToPay.objects.exists() and not CollectionTask.objects.exists()
    assert not CustomerEvent.objects.filter(customer=customer).exists()


def test_a_promise_amount_finer_than_the_currency_is_refused(organization, collector, book):
    customer, _invoices = book
    with travel(TODAY), pytest.raises(DomainError):
        collection_call_log(organization=organization, actor=collector, customer=customer, outcome=Outcome.PROMISED,
                            promised_date=TODAY, promised_amount=Decimal("10.001"))
    assert not PromiseToPay.objects.exists()


def test_a_follow_up_date_keeps_the_task_open_and_due_that_day(organization, collector, book):
    customer, _invoices = book
    with travel(TODAY):
        logged = collection_call_log(organization=organization, actor=collector, customer=customer,
                                     outcome=Outcome.NO_ANSWER, follow_up_on=dt.date(2026, 3, 6))
    task = CollectionTask.objects.get(pk=logged.task.pk)
    assert (task.status, task.due_on, task.last_outcome) == (TaskStatus.OPEN, dt.date(2026, 3, 6), Outcome.NO_ANSWER)
    with travel(TODAY), pytest.raises(DomainError) as past:
        collection_call_log(organization=organization, actor=collector, customer=customer, outcome=Outcome.CALLED,
                            follow_up_on=dt.date(2026, 3, 1))
    assert past.value.field == "follow_up_on"
    # the same open task is logged again, not a second one
    with travel(TODAY):
        again = collection_call_log(organization=organization, actor=collector, customer=customer,
                                    outcome=Outcome.CALLED)
    assert again.task.pk == task.pk and again.task.status == TaskStatus.DONE
    assert CollectionTask.objects.filter(customer=customer).count() == 1


def test_a_viewer_cannot_log_a_call(organization, viewer, book):
    customer, _invoices = book
    with travel(TODAY), pytest.raises(PermissionDenied):
        collection_call_log(organization=organization, actor=viewer, customer=customer, outcome=Outcome.CALLED)
    assert not CollectionTask.objects.exists()


# --- disputes over several invoices ----------------------------------------------------------

def test_an_amount_disputed_over_several_invoices_is_spread_oldest_first(organization, collector, book):
    customer, (old, middle, recent, _future) = book
    with travel(TODAY):
        disputes = disputes_open(organization=organization, actor=collector, customer=customer,
                                 invoices=[recent, middle, old], reason="quality", amount="450.00")
    assert [(d.invoice.number, d.amount) for d in disputes] == [("A-1", Decimal("300.0000")),
                                                                ("A-2", Decimal("150.0000"))]


def test_without_an_amount_each_invoice_is_disputed_in_full(organization, collector, book):
    customer, (old, middle, _recent, _future) = book
    with travel(TODAY):
        disputes = disputes_open(organization=organization, actor=collector, customer=customer,
                                 invoices=[old, middle], reason="price")
    assert sorted((d.invoice.number, d.amount) for d in disputes) == [("A-1", Decimal("300.0000")),
                                                                      ("A-2", Decimal("500.0000"))]


def test_a_dispute_above_what_is_left_changes_nothing(organization, collector, book):
    customer, (old, middle, _recent, _future) = book
    with travel(TODAY):
        services.dispute_open(organization=organization, actor=collector, invoice=old, reason="price",
                              amount="100.00")
        with pytest.raises(DomainError) as error:
            disputes_open(organization=organization, actor=collector, customer=customer, invoices=[old, middle],
                          reason="price", amount="700.01")
    assert error.value.message == f"At most {cny('700')} of these invoices can be disputed."
    assert error.value.field == "amount"
    assert Dispute.objects.count() == 1


def test_another_customers_invoice_cannot_be_disputed_through_this_one(organization, collector, book):
    customer, (old, *_rest) = book
    stranger = CustomerFactory(organization=organization, name="Stranger")
    theirs = make_invoice(organization, stranger, amount="50.00", due_date=dt.date(2026, 2, 1))
    with travel(TODAY), pytest.raises(DomainError) as error:
        disputes_open(organization=organization, actor=collector, customer=customer, invoices=[old, theirs],
                      reason="price")
    assert error.value.message == f"Invoice {theirs.number} belongs to another customer."
    assert not Dispute.objects.exists()


# --- the pages --------------------------------------------------------------------------------

def test_the_customer_promise_page_records_a_promise_over_the_chosen_invoices(client, organization, collector, book):
    customer, (old, middle, _recent, _future) = book
    client.force_login(collector)
    url = reverse("dunning:customer_promise", kwargs={"customer_pk": customer.pk})
    with travel(TODAY):
        page = client.get(url)
        assert page.status_code == 200
        response = client.post(url, {"invoices": [old.pk, middle.pk], "promised_date": "2026-03-20", "amount": "",
                                     "grace_days": "2", "notes": "", "next": f"/customers/{customer.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.pk}/"
    promise = PromiseToPay.objects.get()
    assert (promise.amount, promise.pause_until) == (Decimal("800.0000"), dt.date(2026, 3, 22))


def test_the_customer_dispute_page_shows_the_rule_that_refused(client, organization, collector, book):
    customer, (old, *_rest) = book
    client.force_login(collector)
    url = reverse("dunning:customer_dispute", kwargs={"customer_pk": customer.pk})
    with travel(TODAY):
        response = client.post(url, {"invoices": [old.pk], "reason": "price", "amount": "300.01"})
    assert response.status_code == 400
    assert f"At most {cny('300')} of these invoices can be disputed." in response.content.decode()
    assert not Dispute.objects.exists()


def test_the_call_page_records_a_promise_and_says_so(client, organization, collector, book):
    customer, _invoices = book
    client.force_login(collector)
    url = reverse("dunning:customer_call", kwargs={"customer_pk": customer.pk})
    with travel(TODAY):
        assert client.get(url).status_code == 200
        response = client.post(url, {"outcome": "promised", "promised_date": "2026-03-09",
                                     "promised_amount": "300.00", "notes": "CFO"}, follow=True)
    assert f"Promise to pay {money_format(Decimal(300), 'CNY')} by 2026-03-09 recorded" in response.content.decode()
    assert PromiseToPay.objects.get().status == PromiseStatus.OPEN


def test_another_organizations_customer_is_a_404(client, organization, other_organization, collector):
    theirs = CustomerFactory(organization=other_organization)
    client.force_login(collector)
    for name in ("customer_promise", "customer_dispute", "customer_call"):
        assert client.get(reverse(f"dunning:{name}", kwargs={"customer_pk": theirs.pk})).status_code == 404


def _render(source, **context):
    request = RequestFactory().get("/customers/1/")
    return Template("{% load dunning_actions %}" + source).render(Context({"request": request, **context}))


def test_the_action_buttons_show_to_collectors_only_and_only_on_open_invoices(organization, book):
    customer, (old, *_rest) = book
    collect, view = Capabilities("collector"), Capabilities("viewer")
    html = _render("{% customer_actions customer %}", customer=customer, can=collect)
    for testid in ("action-call", "action-promise", "action-dispute", "action-plan"):
        assert f'data-testid="{testid}"' in html
    assert "next=%2Fcustomers%2F1%2F" in html
    assert "action-promise" not in _render("{% customer_actions customer %}", customer=customer, can=view)
    assert 'data-testid="invoice-actions"' in _render("{% invoice_actions invoice %}", invoice=old, can=collect)
    old.applied_amount = old.total_amount  # a paid invoice (in memory) offers no collection action
    assert "invoice-actions" not in _render("{% invoice_actions invoice %}", invoice=old, can=collect)


def test_disputed_and_promised_invoices_carry_a_marker_in_every_list(organization, collector, book):
    customer, (old, middle, recent, _future) = book
    with travel(TODAY):
        services.dispute_open(organization=organization, actor=collector, invoice=old, reason="price",
                              amount="100.00")
        services.promise_create(organization=organization, actor=collector, customer=customer, invoices=[middle],
                                amount="500.00", promised_date=dt.date(2026, 3, 10))
    markers = invoice_markers(organization, [old.pk, middle.pk, recent.pk])
    assert [m.label for m in markers[old.pk]] == [f"Disputed: {money_format(Decimal(100), 'CNY')}"]
    assert [m.label for m in markers[middle.pk]] == ["Promised by 2026-03-10"]
    assert recent.pk not in markers
    resolved = Dispute.objects.get()
    with travel(TODAY):
        services.dispute_resolve(organization=organization, actor=collector, dispute=resolved, resolution="rejected")
    assert old.pk not in invoice_markers(organization, [old.pk])
    assert Dispute.objects.get().status == DisputeStatus.RESOLVED


def test_the_promise_page_ticks_the_overdue_invoices_no_promise_covers_yet(client, organization, collector, book):
    customer, (old, middle, recent, future) = book
    with travel(TODAY):
        services.promise_create(organization=organization, actor=collector, customer=customer, invoices=[old],
                                amount="300.00", promised_date=dt.date(2026, 3, 10))
        client.force_login(collector)
        form = client.get(reverse("dunning:customer_promise", kwargs={"customer_pk": customer.pk})).context["form"]
    assert sorted(form.initial["invoices"]) == sorted([middle.pk, recent.pk])
    assert future.pk not in form.initial["invoices"]


def test_the_plan_page_from_an_invoice_ticks_that_invoice_only(client, organization, collector, book):
    customer, (_old, middle, _recent, _future) = book
    client.force_login(collector)
    with travel(TODAY):
        url = reverse("dunning:plan_create", kwargs={"customer_pk": customer.pk}) + f"?invoice={middle.pk}"
        form = client.get(url).context["form"]
    assert form.initial["invoices"] == [middle.pk]


def test_a_viewer_sees_the_queue_without_forms_or_action_buttons(client, organization, viewer, book):
    client.force_login(viewer)
    with travel(TODAY):
        page = client.get(reverse("dunning:worklist")).content.decode()
    assert page.count('data-testid="worklist-task"') == 1
    assert 'data-testid="task-log-form"' not in page and 'data-testid="customer-actions"' not in page


def test_the_promise_form_starts_from_the_balance_to_the_cent(organization, client):
    """The form's initial amount is the balance at the currency's minor unit, not the stored 4 places."""
    from tests.factories import MembershipFactory

    collector = MembershipFactory(organization=organization, role="collector").user
    customer = CustomerFactory(organization=organization, name="Cents Co", currency="CNY")
    invoice = make_invoice(organization, customer, amount="1250.00", issue_date=dt.date(2026, 1, 1),
                           due_date=dt.date(2026, 2, 1))
    client.force_login(collector)
    page = client.get(f"/dunning/invoices/{invoice.pk}/promise/").content.decode()
    assert 'value="1250.00"' in page and "1250.0000" not in page
