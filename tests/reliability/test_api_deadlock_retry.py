"""The API's safety net for deadlocks: a write PostgreSQL picks as a deadlock's victim is rolled
back and run once more, so the client gets its answer instead of a 500.

The deadlock is real: a second connection holds the organization's audit-chain lock (which every
write takes last), waits until the API request has locked the invoice and blocks on that lock,
then asks for the invoice itself. PostgreSQL aborts the request (its deadlock check runs first);
the second connection then gets the invoice, rolls back, and the retried request succeeds."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from receivables.models import Invoice
from tenancy.models import AuditChainHead, AuditEntry
from tenancy.services import audit_record
from tests.api.conftest import key_client
from tests.factories import CustomerFactory, OrganizationFactory, make_invoice

pytestmark = pytest.mark.django_db(transaction=True)


def _request_waiting_on_a_lock(own_pid: int) -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> %s "
                       "AND datname = current_database()", [own_pid])
        return cursor.fetchone()[0] > 0


def test_a_deadlocked_void_is_run_again_and_succeeds(caplog):
    organization = OrganizationFactory()
    customer = CustomerFactory(organization=organization, currency="CNY")
    invoice = make_invoice(organization, customer, amount="100.00")
    audit_record(organization=organization, actor=None, action="test.chain_ready", obj=invoice)
    assert AuditChainHead.objects.filter(organization=organization).exists()
    api = key_client(organization, rate_limit_per_minute=100_000)
    outcome = {}

    def other_writer():
        # audit chain first, then the invoice: the opposite of the request's order
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("SET LOCAL deadlock_timeout = '20s'")  # the request is the one aborted
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
                cursor.execute("SELECT 1 FROM tenancy_auditchainhead WHERE organization_id = %s FOR NO KEY UPDATE",
                               [organization.pk])
                outcome["chain_locked"] = True
                deadline = time.monotonic() + 20
                while not _request_waiting_on_a_lock(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                cursor.execute("SELECT 1 FROM receivables_invoice WHERE id = %s FOR NO KEY UPDATE", [invoice.pk])
                outcome["invoice_locked"] = True
                cursor.execute("ROLLBACK")
        except Exception as exc:  # reported by the assertions below
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_writer)
    thread.start()
    while "chain_locked" not in outcome and "error" not in outcome:
        time.sleep(0.01)
    response = api.post(f"/api/v1/invoices/{invoice.pk}/void/", {}, format="json")
    thread.join(timeout=30)

    assert "error" not in outcome and outcome.get("invoice_locked")
    assert response.status_code == 200, response.content
    assert "DeadlockDetected; running it once more" in caplog.text
    assert Invoice.objects.get(pk=invoice.pk).voided_on is not None
    assert AuditEntry.objects.filter(organization=organization, action="invoice.voided").count() == 1
    connection.close()
