"""The worklist is a call queue (issue 14 item 3): a task for every customer with overdue items
dunning does not pause, made idempotently at a constant number of queries, ordered by a priority
the collector can read, paginated."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from credit.models import CreditProfile, CreditScore
from dunning import selectors, services
from dunning.models import CollectionTask, CustomerDunning, Outcome, TaskStatus
from dunning.services.worklist import collection_call_log, collection_tasks_refresh
from tenancy.money import Money, money_format
from tests.dunning.conftest import travel
from tests.factories import CustomerFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 4)


def cny(amount: str) -> str:
    """An amount as messages and titles write it (tenancy.money.Money)."""
    return str(Money(Decimal(amount), "CNY"))


def overdue_customer(organization, name, amount, due_date, **kwargs):
    customer = CustomerFactory(organization=organization, name=name, currency=kwargs.pop("currency", "CNY"),
                               **kwargs)
    invoice = make_invoice(organization, customer, amount=amount, issue_date=dt.date(2026, 1, 1), due_date=due_date,
                           currency=customer.currency)
    return customer, invoice


def test_every_customer_with_overdue_items_gets_one_task_and_a_second_refresh_adds_none(organization):
    a, _ = overdue_customer(organization, "Alpha", "100.00", dt.date(2026, 2, 1))
    b, _ = overdue_customer(organization, "Beta", "200.00", dt.date(2026, 3, 1))
    not_due = CustomerFactory(organization=organization, name="Gamma")
    make_invoice(organization, not_due, amount="50.00", issue_date=dt.date(2026, 3, 1), due_date=dt.date(2026, 3, 31))
    with travel(TODAY):
        assert collection_tasks_refresh(organization=organization, today=TODAY) == 2
        assert collection_tasks_refresh(organization=organization, today=TODAY) == 0
    tasks = CollectionTask.objects.filter(organization=organization, status=TaskStatus.OPEN)
    assert sorted(t.customer_id for t in tasks) == sorted([a.pk, b.pk])
    assert {t.title for t in tasks} == {f"Alpha · {cny('100')} · 31 days", f"Beta · {cny('200')} · 3 days"}


def test_the_refresh_costs_the_same_queries_for_three_or_thirty_customers(organization):
    def queries(n):
        for i in range(n):
            overdue_customer(organization, f"Buyer {n}-{i}", "10.00", dt.date(2026, 2, 1))
        with travel(TODAY), CaptureQueriesContext(connection) as captured:
            created = collection_tasks_refresh(organization=organization, today=TODAY)
        assert created == n
        return len(captured)

    assert queries(3) == queries(30)


def test_paused_excluded_and_recently_called_customers_get_no_task(organization, collector):
    promised, promised_invoice = overdue_customer(organization, "Promised", "100.00", dt.date(2026, 2, 1))
    _disputed, disputed_invoice = overdue_customer(organization, "Disputed", "100.00", dt.date(2026, 2, 1))
    part_disputed, part_invoice = overdue_customer(organization, "Part disputed", "100.00", dt.date(2026, 2, 1))
    excluded, _ = overdue_customer(organization, "Excluded", "100.00", dt.date(2026, 2, 1))
    called, _ = overdue_customer(organization, "Called", "100.00", dt.date(2026, 2, 1))
    CustomerDunning.objects.create(organization=organization, customer=excluded, excluded=True)
    with travel(TODAY):
        services.promise_create(organization=organization, actor=collector, customer=promised,
                                invoices=[promised_invoice], amount="100.00", promised_date=dt.date(2026, 3, 10))
        services.dispute_open(organization=organization, actor=collector, invoice=disputed_invoice, reason="price")
        services.dispute_open(organization=organization, actor=collector, invoice=part_invoice, reason="price",
                              amount="40.00")
        collection_call_log(organization=organization, actor=collector, customer=called, outcome=Outcome.NO_ANSWER)
        collection_tasks_refresh(organization=organization, today=TODAY)
    open_for = set(CollectionTask.objects.filter(status=TaskStatus.OPEN).values_list("customer_id", flat=True))
    # 60 of 100 are not disputed: still called. The call logged today holds the next task back a week.
    assert open_for == {part_disputed.pk}
    task = CollectionTask.objects.get(customer=part_disputed)
    assert task.title == f"Part disputed · {cny('60')} · 31 days"
    with travel(TODAY + dt.timedelta(days=8)):
        collection_tasks_refresh(organization=organization, today=TODAY + dt.timedelta(days=8))
    assert CollectionTask.objects.filter(customer=called, status=TaskStatus.OPEN).exists()


def test_a_generated_task_closes_once_nothing_is_overdue(organization):
    customer, _invoice = overdue_customer(organization, "Payer", "100.00", dt.date(2026, 2, 1))
    with travel(TODAY):
        collection_tasks_refresh(organization=organization, today=TODAY)
        make_payment(organization, customer, amount="100.00", received_on=TODAY, currency="CNY")
        collection_tasks_refresh(organization=organization, today=TODAY)
    task = CollectionTask.objects.get(customer=customer)
    assert task.status == TaskStatus.DONE and task.closed_at is not None


def test_the_queue_orders_by_base_amount_times_days_times_risk(organization):
    # 1000 CNY x 10 days = 10,000; 300 CNY x 60 days = 18,000; 200 CNY x 30 days x (1 + 0.5 broken) = 9,000
    _big, _ = overdue_customer(organization, "Big", "1000.00", dt.date(2026, 2, 22))
    _old, _ = overdue_customer(organization, "Old", "300.00", dt.date(2026, 1, 3))
    broke, _ = overdue_customer(organization, "Broke a promise", "200.00", dt.date(2026, 2, 2))
    CustomerDunning.objects.create(organization=organization, customer=broke, broken_promises=1)
    with travel(TODAY):
        collection_tasks_refresh(organization=organization, today=TODAY)
    rows = selectors.worklist(organization, TODAY)
    assert [(r.task.customer.name, r.priority, r.max_days, r.risk) for r in rows] == [
        ("Old", Decimal(18000), 60, Decimal(1)), ("Big", Decimal(10000), 10, Decimal(1)),
        ("Broke a promise", Decimal(9000), 30, Decimal("1.5"))]
    assert [r.rank for r in rows] == [1, 2, 3]


def test_a_weak_credit_grade_raises_the_risk(organization):
    weak, _ = overdue_customer(organization, "Weak", "100.00", dt.date(2026, 2, 2))
    strong, _ = overdue_customer(organization, "Strong", "110.00", dt.date(2026, 2, 2))
    score = CreditScore.objects.create(
        organization=organization, customer=weak, as_of=TODAY, created_at=timezone.now(), score=20, score_low=15,
        score_high=25, grade="E", factors={}, inputs={}, weights={}, bands={}, provisional_missing_weight=0,
        model_version="t", recommended_limit=0, recommended_terms_days=0)
    CreditProfile.objects.create(organization=organization, customer=weak, latest_score=score)
    with travel(TODAY):
        collection_tasks_refresh(organization=organization, today=TODAY)
    rows = selectors.worklist(organization, TODAY)
    assert [(r.task.customer_id, r.grade, r.risk) for r in rows] == [(weak.pk, "E", Decimal("1.5")),
                                                                    (strong.pk, "", Decimal(1))]


def test_a_task_followed_up_later_waits_at_the_end_of_the_queue(organization, collector):
    first, _ = overdue_customer(organization, "First", "1000.00", dt.date(2026, 1, 3))
    second, _ = overdue_customer(organization, "Second", "10.00", dt.date(2026, 2, 2))
    with travel(TODAY):
        collection_tasks_refresh(organization=organization, today=TODAY)
        collection_call_log(organization=organization, actor=collector, customer=first, outcome=Outcome.NO_ANSWER,
                            follow_up_on=dt.date(2026, 3, 6))
    rows = selectors.worklist(organization, TODAY)
    assert [(r.task.customer_id, r.later) for r in rows] == [(second.pk, False), (first.pk, True)]
    on_the_day = selectors.worklist(organization, dt.date(2026, 3, 6))
    assert [r.task.customer_id for r in on_the_day] == [first.pk, second.pk]


def test_the_worklist_page_after_an_import_lists_tasks_with_labelled_inputs_and_pages(client, organization,
                                                                                     collector):
    for i in range(55):
        overdue_customer(organization, f"Imported {i:02d}", f"{100 + i}.00", dt.date(2026, 2, 1),
                         contact_emails=[f"ap{i}@example.com"])
    client.force_login(collector)
    with travel(TODAY):
        page = client.get(reverse("dunning:worklist")).content.decode()
        second = client.get(reverse("dunning:worklist") + "?page=2").content.decode()
    assert "No open tasks" not in page
    assert page.count('data-testid="worklist-task"') == 50 and second.count('data-testid="worklist-task"') == 5
    # highest priority first: the largest amount, all 31 days overdue
    first = page.split('data-testid="worklist-task"')[1]
    assert "Imported 54</a> · " in first and "154.00" in first and "31 days" in first
    assert "ap54@example.com" in page
    for field in ("outcome", "notes", "promised-date", "promised-amount", "follow-up"):
        assert page.count(f'<label for="{field}-') == 50
    assert "Page 1 of 2" in page


def test_the_worklist_page_costs_the_same_queries_for_five_or_fifty_customers(client, organization, collector):
    client.force_login(collector)

    def queries(n):
        for i in range(n):
            overdue_customer(organization, f"Q{n}-{i}", "10.00", dt.date(2026, 2, 1), contact_emails=["a@b.c"])
        with travel(TODAY):
            client.get(reverse("dunning:worklist"))  # makes the tasks
            with CaptureQueriesContext(connection) as captured:
                response = client.get(reverse("dunning:worklist"))
        assert response.status_code == 200
        return len(captured)

    assert queries(5) == queries(45)


def test_logging_promised_on_the_worklist_creates_a_promise_and_closes_the_task(client, organization, collector):
    customer, invoice = overdue_customer(organization, "Caller", "500.00", dt.date(2026, 2, 1))
    client.force_login(collector)
    with travel(TODAY):
        client.get(reverse("dunning:worklist"))
        task = CollectionTask.objects.get(customer=customer)
        response = client.post(reverse("dunning:task_log", kwargs={"pk": task.pk}),
                               {"outcome": "promised", "promised_date": "2026-03-09", "promised_amount": "",
                                "notes": "Mr. Li"}, follow=True)
    assert f"Promise to pay {money_format(Decimal(500), 'CNY')} by 2026-03-09 recorded" in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    from dunning.models import PromiseToPay

    promise = PromiseToPay.objects.get(customer=customer)
    assert list(promise.invoices.all()) == [invoice] and promise.amount == Decimal("500.0000")
    # the paused customer gets no new task from the next refresh
    assert "No open tasks" in response.content.decode()


def test_a_refused_promise_on_the_worklist_says_why_and_keeps_the_task(client, organization, collector):
    customer, _invoice = overdue_customer(organization, "Caller", "500.00", dt.date(2026, 2, 1))
    client.force_login(collector)
    with travel(TODAY):
        client.get(reverse("dunning:worklist"))
        task = CollectionTask.objects.get(customer=customer)
        response = client.post(reverse("dunning:task_log", kwargs={"pk": task.pk}),
                               {"outcome": "promised", "promised_date": "", "notes": ""}, follow=True)
    assert "Give the date the customer promised to pay." in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN


def test_logging_disputed_on_the_worklist_opens_the_dispute_form_and_comes_back(client, organization, collector):
    customer, invoice = overdue_customer(organization, "Disputer", "500.00", dt.date(2026, 2, 1))
    client.force_login(collector)
    with travel(TODAY):
        client.get(reverse("dunning:worklist"))
        task = CollectionTask.objects.get(customer=customer)
        response = client.post(reverse("dunning:task_log", kwargs={"pk": task.pk}),
                               {"outcome": "disputed", "notes": "Wrong quantity"})
        dispute_url = reverse("dunning:customer_dispute", kwargs={"customer_pk": customer.pk})
        assert response["Location"] == f"{dispute_url}?next=%2Fdunning%2Fworklist%2F"
        page = client.get(response["Location"]).content.decode()
        assert 'name="next" value="/dunning/worklist/"' in page
        done = client.post(dispute_url, {"invoices": [invoice.pk], "reason": "quantity", "amount": "120.00",
                                         "next": "/dunning/worklist/"})
    assert done["Location"] == "/dunning/worklist/"
    from dunning.models import Dispute

    assert Dispute.objects.get(invoice=invoice).amount == Decimal("120.0000")
    task.refresh_from_db()
    assert (task.status, task.last_outcome) == (TaskStatus.DONE, "disputed")


def test_the_call_page_and_the_queue_name_whom_to_call(client, organization, collector):
    customer, _invoice = overdue_customer(organization, "Caller", "500.00", dt.date(2026, 2, 1),
                                          contact_emails=["ap@caller.example", "cfo@caller.example"],
                                          contact_name="Li Wei", contact_phone="+86 10 6666 0000")
    client.force_login(collector)
    with travel(TODAY):
        page = client.get(reverse("dunning:customer_call", kwargs={"customer_pk": customer.pk})).content.decode()
        queue = client.get(reverse("dunning:worklist")).content.decode()
    contacts = page.split('data-testid="call-contacts"')[1].split("</p>")[0]
    assert 'Li Wei · <a href="tel:+86 10 6666 0000">+86 10 6666 0000</a> · <a href="mailto:ap@caller.example">' \
        in contacts and "cfo@caller.example" in contacts
    assert '<a href="tel:+86 10 6666 0000">' in queue.split('data-testid="contact"')[1]


def test_the_daily_run_task_fills_the_morning_queue(organization):
    """Not only the customers a policy step touched: every customer with overdue items has a task after
    the daily run, before anyone opens the worklist (issue 14 item 3: an import of overdue invoices
    must not leave 'No open tasks')."""
    from dunning.tasks import dunning_run_task

    a, _ = overdue_customer(organization, "Alpha", "100.00", dt.date(2026, 2, 1))
    b, _ = overdue_customer(organization, "Beta", "200.00", dt.date(2026, 3, 1))
    with travel(TODAY):
        dunning_run_task.delay(organization.pk, TODAY.isoformat())
    tasks = CollectionTask.objects.filter(organization=organization, status=TaskStatus.OPEN)
    assert sorted(t.customer_id for t in tasks) == sorted([a.pk, b.pk])
