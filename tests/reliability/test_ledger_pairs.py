"""Every pair of ledger writes, run at the same moment on two real PostgreSQL connections, against
one small ledger: each write either succeeds or is refused with a domain error (never a deadlock,
never a constraint violation), and afterwards the ledger's figures agree with its allocations.

The README's lock order (customer, then sources -- payments, credit notes, write-offs -- then
invoices by primary key, the audit chain last) is what makes this hold."""

import datetime as dt
import itertools
import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Sum
from django.db.models.functions import Coalesce

from receivables import services
from receivables.models import Allocation, Invoice, Payment, PaymentStatus
from tenancy.errors import DomainError
from tests.factories import CustomerFactory, OrganizationFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def _ledger():
    organization = OrganizationFactory()
    customer = CustomerFactory(organization=organization, currency="CNY")
    i1 = make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, 2))
    i2 = make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, 3))
    i3 = make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, 4))
    i4 = make_invoice(organization, customer, amount="40.00", issue_date=dt.date(2026, 1, 5))
    p1 = make_payment(organization, customer, amount="150.00", received_on=dt.date(2026, 1, 10))  # i1 100, i2 50
    p2 = make_payment(organization, customer, amount="50.00", received_on=dt.date(2026, 1, 11), auto_allocate=False)
    note = services.credit_note_create(organization=organization, actor=None, customer=customer, number="CN-1",
                                       issued_on=dt.date(2026, 1, 12), amount=D("30.00"), invoice=i2)
    write_off = services.invoice_write_off(organization=organization, actor=None, invoice=i3, reason="Lost",
                                           written_off_on=dt.date(2026, 1, 13))
    return {"organization": organization, "customer": customer, "i1": i1, "i2": i2, "i3": i3, "i4": i4, "p1": p1,
            "p2": p2, "note": note, "write_off": write_off}


def _org(ledger):
    return {"organization": ledger["organization"], "actor": None}


WRITES = {
    "payment_record": lambda s: services.payment_record(**_org(s), customer=s["customer"], amount=D("20.00"),
                                                        received_on=dt.date(2026, 1, 20)),
    "payment_allocate": lambda s: services.payment_allocate(**_org(s), payment=s["p2"]),
    "credit_note_create": lambda s: services.credit_note_create(
        **_org(s), customer=s["customer"], number="CN-2", issued_on=dt.date(2026, 1, 20), amount=D("10.00"),
        invoice=s["i2"]),
    "invoice_write_off": lambda s: services.invoice_write_off(**_org(s), invoice=s["i2"], reason="Small",
                                                              amount=D("5.00"), written_off_on=dt.date(2026, 1, 20)),
    "invoice_void": lambda s: services.invoice_void(**_org(s), invoice=s["i4"]),
    "invoice_update": lambda s: services.invoice_update(**_org(s), invoice=s["i1"], issue_date=dt.date(2026, 1, 1),
                                                        due_date=dt.date(2026, 2, 28)),
    "payment_update": lambda s: services.payment_update(**_org(s), payment=s["p1"], received_on=dt.date(2026, 1, 9)),
    "payment_reverse": lambda s: services.payment_reverse(**_org(s), payment=s["p1"], reversed_on=dt.date(2026, 2, 1),
                                                          reason="Bounced"),
    "payment_unapply": lambda s: services.payment_unapply(**_org(s), payment=s["p1"], invoice=s["i1"],
                                                          amount=D("10.00"), on=dt.date(2026, 2, 1)),
    "payment_refund": lambda s: services.payment_refund(**_org(s), payment=s["p2"], amount=D("10.00"),
                                                        refunded_on=dt.date(2026, 2, 1)),
    "credit_note_reverse": lambda s: services.credit_note_reverse(**_org(s), credit_note=s["note"],
                                                                  reversed_on=dt.date(2026, 2, 1), reason="Error"),
    "write_off_reverse": lambda s: services.write_off_reverse(**_org(s), write_off=s["write_off"],
                                                              reversed_on=dt.date(2026, 2, 1), reason="Dividend",
                                                              amount=D("10.00")),
    "customer_update": lambda s: services.customer_update(**_org(s), customer=s["customer"], name="Renamed"),
}


def _race(ledger, first: str, second: str) -> list[object]:
    start = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def run(index, name):
        try:
            start.wait(timeout=10)
            WRITES[name](ledger)
            outcomes[index] = "ok"
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(0, first)), threading.Thread(target=run, args=(1, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def _ledger_problems(organization) -> list[str]:
    problems = []
    for invoice in Invoice.objects.filter(organization=organization):
        total = Allocation.objects.filter(invoice=invoice).aggregate(s=Coalesce(Sum("amount"), D(0)))["s"]
        if total != invoice.applied_amount:
            problems.append(f"invoice {invoice.number}: applied {invoice.applied_amount}, allocations {total}")
    for payment in Payment.objects.filter(organization=organization):
        applied = Allocation.objects.filter(payment=payment).aggregate(s=Coalesce(Sum("amount"), D(0)))["s"]
        if payment.status == PaymentStatus.REVERSED:
            ok = payment.unapplied_amount == 0 and applied == 0
        else:
            ok = payment.amount - payment.unapplied_amount - payment.refunded_amount == applied
        if not ok:
            problems.append(f"payment {payment.pk} ({payment.status}): amount {payment.amount} unapplied "
                            f"{payment.unapplied_amount} refunded {payment.refunded_amount} allocations {applied}")
    return problems


def test_every_pair_of_ledger_writes_is_safe_on_two_connections():
    failures = []
    for first, second in itertools.combinations_with_replacement(sorted(WRITES), 2):
        ledger = _ledger()
        outcomes = _race(ledger, first, second)
        for name, outcome in zip((first, second), outcomes, strict=True):
            if outcome != "ok" and not isinstance(outcome, DomainError):
                failures.append(f"{first} + {second}: {name} raised {type(outcome).__name__}: {outcome}")
        failures += [f"{first} + {second}: {p}" for p in _ledger_problems(ledger["organization"])]
        if first != second:
            assert "ok" in outcomes or all(isinstance(o, DomainError) for o in outcomes), (first, second, outcomes)
    assert failures == []
