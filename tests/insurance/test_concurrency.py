"""Two decisions on one cover request over two real PostgreSQL connections: the row lock serializes
them; the first wins, the second is refused as decided already and changes nothing."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections, transaction

from insurance import services
from insurance.models import CoverRequest, Decision
from tenancy.models import AuditEntry
from tests.factories import CustomerFactory, OrganizationFactory

from .conftest import POLICY_TERMS

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_two_decisions_on_one_request_first_wins():
    organization = OrganizationFactory()
    customer = CustomerFactory(organization=organization, currency="CNY")
    policy = services.policy_create(organization=organization, actor=None, **POLICY_TERMS)
    request = services.cover_request_create(organization=organization, actor=None, policy=policy, customer=customer,
                                            request_type="new", amount=Decimal("500000"),
                                            requested_on=dt.date(2026, 2, 1))
    first_has_lock, let_first_commit = threading.Event(), threading.Event()

    def approve_and_hold():
        with transaction.atomic():
            services.cover_request_decide(organization=organization, actor=None, request=request,
                                          decision="approved", decided_on=dt.date(2026, 2, 3))
            first_has_lock.set()
            let_first_commit.wait(timeout=10)

    def refuse():
        first_has_lock.wait(timeout=10)
        return services.cover_request_decide(organization=organization, actor=None, request=request,
                                             decision="refused", reason_code="3", decided_on=dt.date(2026, 2, 3))

    t1, first = _in_thread(approve_and_hold)
    t2, second = _in_thread(refuse)
    first_has_lock.wait(timeout=10)
    t2.join(timeout=0.5)
    assert t2.is_alive(), "the second decision must wait for the first one's row lock"
    let_first_commit.set()
    t1.join(timeout=10)
    t2.join(timeout=10)
    assert "error" not in first
    assert isinstance(second.get("error"), services.CoverAlreadyDecided)
    assert "decided already (Approved)" in str(second["error"])
    stored = CoverRequest.objects.get(pk=request.pk)
    assert (stored.decision, stored.decided_amount) == (Decision.APPROVED, Decimal("500000"))
    assert AuditEntry.objects.filter(organization=organization, action="insurance.cover_decided").count() == 1


def test_two_deadline_runs_at_once_warn_once():
    from insurance.models import InsuranceAlert
    from tenancy.models import WebhookEvent
    from tests.factories import make_invoice

    organization = OrganizationFactory(timezone="Asia/Shanghai")
    customer = CustomerFactory(organization=organization, currency="CNY")
    policy = services.policy_create(organization=organization, actor=None, **POLICY_TERMS)
    request = services.cover_request_create(organization=organization, actor=None, policy=policy, customer=customer,
                                            request_type="new", amount=Decimal("500000"),
                                            requested_on=dt.date(2026, 1, 2))
    services.cover_request_decide(organization=organization, actor=None, request=request, decision="approved",
                                  decided_on=dt.date(2026, 1, 2))
    for day in (1, 2, 3):
        make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, day),
                     due_date=dt.date(2026, 1, 30 + day - 1 if day < 3 else 31))
    start = threading.Barrier(2)

    def run():
        start.wait(timeout=10)
        return len(services.deadline_warnings_run(organization=organization, as_of=dt.date(2026, 3, 28)))

    (t1, first), (t2, second) = _in_thread(run), _in_thread(run)
    t1.join(timeout=20)
    t2.join(timeout=20)
    assert "error" not in first and "error" not in second
    assert sorted([first["value"], second["value"]]) == [0, 3]
    assert InsuranceAlert.objects.filter(organization=organization).count() == 3
    assert WebhookEvent.objects.filter(organization=organization, type="insurance.deadline_warning").count() == 3
