"""Two real PostgreSQL connections racing for one invoice: the row locks serialize them,
and the second sees what the first applied."""

import threading
from decimal import Decimal

import pytest
from django.db import connections, transaction

from receivables import services
from receivables.models import Allocation, Invoice, Payment
from tenancy.errors import DomainError, ErrorCode
from tests.factories import CustomerFactory, OrganizationFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(fn):
    """Run fn on its own thread, hence its own database connection; collect its outcome."""
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
    invoice = make_invoice(organization, customer, amount="100.00")
    first = make_payment(organization, customer, amount="80.00", auto_allocate=False)
    second = make_payment(organization, customer, amount="80.00", auto_allocate=False)
    return organization, invoice, first, second


def test_two_explicit_allocations_cannot_together_over_apply_an_invoice(race):
    organization, invoice, first, second = race
    first_has_lock, let_first_commit = threading.Event(), threading.Event()

    def allocate_first_and_hold():
        with transaction.atomic():
            services.payment_allocate(organization=organization, actor=None, payment=first,
                                      allocations=[(invoice, Decimal("80.00"))])
            first_has_lock.set()
            let_first_commit.wait(timeout=10)

    def allocate_second():
        first_has_lock.wait(timeout=10)
        return services.payment_allocate(organization=organization, actor=None, payment=second,
                                         allocations=[(invoice, Decimal("80.00"))])

    t1, _ = _in_thread(allocate_first_and_hold)
    t2, second_outcome = _in_thread(allocate_second)
    first_has_lock.wait(timeout=10)
    t2.join(timeout=0.5)
    assert t2.is_alive(), "the second allocation must wait for the first one's row lock"
    let_first_commit.set()
    t1.join(timeout=10), t2.join(timeout=10)

    assert isinstance(second_outcome.get("error"), DomainError)
    assert second_outcome["error"].code == ErrorCode.OVER_APPLICATION
    assert "has 20.00 CNY outstanding" in str(second_outcome["error"])
    invoice.refresh_from_db()
    assert invoice.applied_amount == Decimal("80.00")
    assert Allocation.objects.count() == 1
    assert Payment.objects.get(pk=second.pk).unapplied_amount == Decimal("80.00")


def test_two_automatic_allocations_share_the_invoice_exactly(race):
    organization, invoice, first, second = race
    start = threading.Barrier(2)

    def auto(payment):
        def run():
            start.wait(timeout=10)
            return services.payment_allocate(organization=organization, actor=None, payment=payment)
        return run

    threads = [_in_thread(auto(first)), _in_thread(auto(second))]
    for thread, _outcome in threads:
        thread.join(timeout=20)

    assert all("error" not in outcome for _thread, outcome in threads)
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.applied_amount == invoice.total_amount == Decimal("100.00")
    unapplied = sorted(Payment.objects.values_list("unapplied_amount", flat=True))
    assert unapplied == [Decimal("0.00"), Decimal("60.00")]


def _waiting_locks() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0]


def test_an_issue_date_patch_waits_for_the_payment_before_it_locks_the_invoice(race):
    """The API's PATCH (If-Match compared under the service's locks) takes an invoice's payment locks
    before the invoice's, the ledger's order: while a payment is held elsewhere, the PATCH waits
    without holding the invoice, so an allocation on that payment cannot deadlock with it."""
    from tests.api.conftest import key_client

    organization, invoice, first, _second = race
    services.payment_allocate(organization=organization, actor=None, payment=first,
                              allocations=[(invoice, Decimal("50.00"))])
    api = key_client(organization)
    etag = api.get(f"/api/v1/invoices/{invoice.pk}/").headers["ETag"]
    holding, release = threading.Event(), threading.Event()

    def hold_the_payment():
        with transaction.atomic():
            list(Payment.objects.select_for_update().filter(pk=first.pk))
            holding.set()
            release.wait(timeout=15)

    def patch_the_issue_date():
        holding.wait(timeout=10)
        return api.patch(f"/api/v1/invoices/{invoice.pk}/", {"issue_date": "2025-12-15"}, format="json",
                         HTTP_IF_MATCH=etag)

    def probe_the_invoice():
        with transaction.atomic():
            return list(Invoice.objects.select_for_update(nowait=True).filter(pk=invoice.pk))

    holder, _ = _in_thread(hold_the_payment)
    patcher, patched = _in_thread(patch_the_issue_date)
    for _ in range(100):  # until the PATCH is queued behind the held payment
        if _waiting_locks():
            break
        threading.Event().wait(0.05)
    prober, probed = _in_thread(probe_the_invoice)
    prober.join(timeout=15)
    release.set()
    holder.join(timeout=15)
    patcher.join(timeout=15)

    assert "error" not in probed, probed  # the invoice was free while the PATCH waited
    assert patched["value"].status_code == 200, patched["value"].content
    assert Invoice.objects.get(pk=invoice.pk).issue_date.isoformat() == "2025-12-15"


# --- lock order: row locks leave foreign-key checks alone; the audit chain is locked last --------

def _until_a_session_waits_for_a_lock(timeout: float = 10.0) -> None:
    """Block until another session of this database is waiting for a lock (PostgreSQL says so)."""
    import time

    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction the view is a snapshot
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("no session ever waited for a lock")


def test_editing_a_customer_while_an_invoice_for_it_commits_does_not_deadlock():
    """The invoice's transaction holds the audit chain and checks its customer foreign key at commit
    (FOR KEY SHARE); the customer edit locks the customer, then waits for the chain. A FOR UPDATE
    lock on the customer made that a deadlock; FOR NO KEY UPDATE lets the key check through."""
    import datetime as dt

    organization = OrganizationFactory()
    customer = CustomerFactory(organization=organization, currency="CNY")
    invoiced = threading.Event()

    def invoice_and_hold():
        with transaction.atomic():
            services.invoice_create(organization=organization, actor=None, customer=customer, number="INV-L1",
                                    issue_date=dt.date(2026, 3, 1), net_amount=Decimal("10"))
            invoiced.set()
            _until_a_session_waits_for_a_lock()  # the customer edit, waiting for the audit chain

    def edit_customer():
        invoiced.wait(timeout=10)
        return services.customer_update(organization=organization, customer=customer, actor=None, name="Renamed")

    first, first_outcome = _in_thread(invoice_and_hold)
    second, second_outcome = _in_thread(edit_customer)
    first.join(30)
    second.join(30)

    assert "error" not in first_outcome and "error" not in second_outcome, (first_outcome, second_outcome)
    assert Invoice.objects.filter(number="INV-L1").exists()
    assert services.Customer.objects.get(pk=customer.pk).name == "Renamed"


def test_a_bulk_create_clashing_with_an_uncommitted_invoice_is_a_clear_error_not_a_deadlock():
    """A single create has stored invoice number N and will lock the audit chain next; a bulk create of
    N waits on that row. Had the bulk create locked the chain before storing its rows, the two would
    wait on each other."""
    import datetime as dt

    from receivables.models import Invoice as InvoiceModel
    from tenancy.services import audit_record

    organization = OrganizationFactory()
    customer = CustomerFactory(organization=organization, currency="CNY")
    stored = threading.Event()

    def store_then_audit():
        with transaction.atomic():
            invoice = InvoiceModel.objects.create(
                organization=organization, customer=customer, number="INV-N", issue_date=dt.date(2026, 3, 1),
                due_date=dt.date(2026, 3, 31), currency="CNY", net_amount=Decimal("10"), tax_amount=Decimal("0"),
                total_amount=Decimal("10"))
            stored.set()
            _until_a_session_waits_for_a_lock()  # the bulk create, waiting on number N
            audit_record(organization=organization, actor=None, action="invoice.created", obj=invoice)

    def bulk_create():
        stored.wait(timeout=10)
        return services.invoices_create_many(organization=organization, actor=None, rows=[
            {"customer": customer, "number": "INV-N", "issue_date": dt.date(2026, 3, 1), "net_amount": Decimal("5")}])

    first, first_outcome = _in_thread(store_then_audit)
    second, second_outcome = _in_thread(bulk_create)
    first.join(30)
    second.join(30)

    assert "error" not in first_outcome, first_outcome
    error = second_outcome.get("error")
    assert isinstance(error, DomainError) and error.code == ErrorCode.DUPLICATE, second_outcome
    assert InvoiceModel.objects.filter(number="INV-N").count() == 1
