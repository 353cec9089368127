"""dunning_demo_seed on a small ledger: every kind of collection record a demo needs, through
the services (audit chain intact), and a preview with something in it."""

import datetime as dt

import pytest

from dunning import services
from dunning.demo import dunning_demo_seed
from dunning.models import (
    CollectionTask,
    CustomerEvent,
    Dispute,
    DunningNotice,
    DunningRun,
    EventKind,
    PaymentPlan,
    PromiseStatus,
    PromiseToPay,
    TaskStatus,
)
from tenancy.selectors import audit_verify
from tests.dunning.conftest import travel
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 11)  # a Wednesday


@pytest.fixture
def book(organization, admin_user, collector):
    for n in range(6):
        customer = CustomerFactory(organization=organization, name=f"Customer {n}",
                                   contact_emails=[f"ap{n}@example.com"])
        for m, days in enumerate((100, 45, 20)):
            due = TODAY - dt.timedelta(days=days + n)
            make_invoice(organization, customer, amount=f"{1000 + 100 * m}.00", issue_date=due - dt.timedelta(30),
                         due_date=due, number=f"D{n}-{m}")
    newly_due = CustomerFactory(organization=organization, name="Newly Due", contact_emails=["ap@new.example"])
    make_invoice(organization, newly_due, amount="300.00", issue_date=TODAY - dt.timedelta(33),
                 due_date=TODAY - dt.timedelta(3), number="NEW-1")
    return organization


def test_demo_seed_builds_every_kind_of_collection_record(book, collector, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with travel(TODAY):
        counts = dunning_demo_seed(organization=book)
        preview = services.dunning_preview_page(book)
    runs = list(DunningRun.objects.filter(organization=book).order_by("run_date").values_list("run_date", flat=True))
    # two months, five weeks and a week before 2026-03-11, on business days of the China calendar
    assert runs == [dt.date(2026, 1, 7), dt.date(2026, 2, 4), dt.date(2026, 3, 4)]
    assert counts["notices"] == DunningNotice.objects.filter(organization=book).count()
    # every invoice went through the steps in sequence: no invoice got a +60 before its +1 and +30
    for invoice_id in DunningNotice.objects.filter(organization=book).values_list("invoice_id", flat=True):
        steps = sorted(DunningNotice.objects.filter(invoice_id=invoice_id, step_days__gt=0)
                       .values_list("step_days", flat=True))
        assert steps == [s for s in (1, 30, 60, 90) if steps and s <= steps[-1]]
    assert Dispute.objects.filter(organization=book, status="open").count() == 1
    assert sorted(PromiseToPay.objects.filter(organization=book).values_list("status", flat=True)) == [
        PromiseStatus.BROKEN, PromiseStatus.KEPT]
    plan = PaymentPlan.objects.get(organization=book)
    assert plan.installments.count() == 3
    assert sum(i.amount for i in plan.installments.all()) == plan.total_amount
    assert CollectionTask.objects.filter(organization=book, status=TaskStatus.OPEN, assigned_to=collector).count() == 3
    assert CustomerEvent.objects.filter(organization=book, kind=EventKind.PROMISE_BROKEN).count() == 1
    assert audit_verify(book).ok
    # The collector has something to send today: the invoice that fell due since the past run, and
    # the +30 reminders of the invoices that got their +1 five weeks ago.
    today = sorted((c.number, c.step.days_from_due) for _customer, mail, _calls, _r in preview.rows for c in mail)
    assert ("NEW-1", 1) in today
    assert {days for number, days in today if number.endswith("-1") and number != "NEW-1"} == {30}
