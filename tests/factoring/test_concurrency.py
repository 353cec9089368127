"""Two assignments racing for one invoice on two real PostgreSQL connections: one wins, the
other is refused naming the invoice (409); and the database itself refuses a second live line."""

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connections, transaction

from factoring import services
from factoring.models import AssignmentLine
from tenancy.errors import ErrorCode
from tests.factories import CustomerFactory, OrganizationFactory
from tests.factoring.conftest import facility_make, invoice_make

pytestmark = pytest.mark.django_db(transaction=True)

DAY = dt.date(2026, 3, 2)


def _in_thread(fn):
    outcome = {}

    def run():
        try:
            outcome["value"] = fn()
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.fixture
def race():
    organization = OrganizationFactory()
    customer = CustomerFactory(organization=organization, currency="CNY")
    invoice = invoice_make(organization, customer, "10000")
    first = facility_make(organization, name="Factor A")
    second = facility_make(organization, name="Bank B", mode="discounting", disclosed=False)
    return organization, invoice, first, second


def test_two_assignments_race_for_one_invoice_and_one_wins(race):
    organization, invoice, first, second = race
    first_has_it, let_first_commit = threading.Event(), threading.Event()

    def assign_and_hold():
        with transaction.atomic():
            assignment = services.assignment_create(organization=organization, actor=None, facility=first,
                                                    invoices=[invoice.pk], assigned_on=DAY)
            first_has_it.set()
            let_first_commit.wait(timeout=10)
        return assignment

    def assign_too():
        first_has_it.wait(timeout=10)
        return services.assignment_create(organization=organization, actor=None, facility=second,
                                          invoices=[invoice.pk], assigned_on=DAY)

    t1, won = _in_thread(assign_and_hold)
    t2, lost = _in_thread(assign_too)
    first_has_it.wait(timeout=10)
    t2.join(timeout=0.5)
    assert t2.is_alive(), "the second assignment must wait for the first one's lock on the invoice"
    let_first_commit.set()
    t1.join(timeout=10), t2.join(timeout=10)

    assert "value" in won, won
    error = lost.get("error")
    assert isinstance(error, services.AssignmentRefused), lost
    assert error.code == ErrorCode.DUPLICATE
    assert error.invoices[0]["invoice"] == invoice.pk
    assert [r["code"] for r in error.invoices[0]["reasons"]] == ["already_assigned"]
    assert AssignmentLine.objects.filter(invoice=invoice).count() == 1


def test_the_database_refuses_a_second_live_line(race):
    organization, invoice, first, second = race
    services.assignment_create(organization=organization, actor=None, facility=first, invoices=[invoice.pk],
                               assigned_on=DAY)
    line = AssignmentLine.objects.get()
    line.pk = None
    line.facility = second
    line.assignment = services.Assignment.objects.create(organization=organization, facility=second, number="X-1",
                                                         currency="CNY", assigned_on=DAY)
    with pytest.raises(IntegrityError, match="assignment_line_one_live_per_invoice"), transaction.atomic():
        line.save()
