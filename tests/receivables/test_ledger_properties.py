"""Invariants of the ledger under random sequences of writes (hypothesis, stateful).

The machine drives the real services with random invoices, payments (automatic and
explicit), credit notes, write-offs and voids, and undoes money (payment reversals, unapplies,
refunds, credit-note and write-off reversals, each dated today), on a clock that only moves forward. After
every step: the aging buckets sum to the total outstanding, which equals invoiced minus
applied; nothing is negative; and the aging as of every earlier day is what it was then.
"""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.db.models import F, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from receivables import selectors, services
from receivables.models import Allocation, CreditNote, Invoice, Payment, WriteOff
from tenancy.errors import DomainError
from tests.factories import CustomerFactory, OrganizationFactory

START = dt.date(2026, 1, 1)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.today = START
        self.snapshots: dict[dt.date, tuple] = {}
        self.numbers = 0

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @initialize()
    def setup(self):
        self.organization = OrganizationFactory(aging_buckets=[30, 60, 90])
        self.customers = [CustomerFactory(organization=self.organization, currency="CNY") for _ in range(3)]

    def _invoices(self):
        return Invoice.objects.filter(organization=self.organization)

    def _open_invoices(self):
        return list(selectors.open_invoices(self.organization).order_by("pk"))

    @rule(days=st.integers(min_value=0, max_value=45))
    def advance_clock(self, days):
        self.today += dt.timedelta(days=days)

    @rule(customer=st.integers(0, 2), amount=amounts, terms=st.integers(0, 90))
    def issue_invoice(self, customer, amount, terms):
        self.numbers += 1
        services.invoice_create(
            organization=self.organization, actor=None, customer=self.customers[customer],
            number=f"INV-{self.numbers}", issue_date=self.today,
            due_date=self.today + dt.timedelta(days=terms), net_amount=amount,
        )

    @rule(customer=st.integers(0, 2), amount=amounts)
    def receive_payment_auto(self, customer, amount):
        services.payment_record(organization=self.organization, actor=None, customer=self.customers[customer],
                                received_on=self.today, amount=amount)

    @rule(lines=st.lists(st.tuples(st.integers(0, 2), amounts, st.integers(0, 90)), min_size=1, max_size=4))
    def issue_invoices_in_bulk(self, lines):
        rows = []
        for customer, amount, terms in lines:
            self.numbers += 1
            rows.append({"customer": self.customers[customer], "number": f"INV-{self.numbers}",
                         "issue_date": self.today, "due_date": self.today + dt.timedelta(days=terms),
                         "net_amount": amount})
        services.invoices_create_many(organization=self.organization, actor=None, rows=rows)

    @rule(lines=st.lists(st.tuples(st.integers(0, 2), amounts), min_size=1, max_size=4))
    def receive_payments_in_bulk(self, lines):
        services.payments_record_many(organization=self.organization, actor=None, rows=[
            {"customer": self.customers[customer], "received_on": self.today, "amount": amount}
            for customer, amount in lines])

    @precondition(lambda self: selectors.open_invoices(self.organization).exists())
    @rule(data=st.data(), extra=amounts)
    def receive_payment_explicit(self, data, extra):
        invoice = data.draw(st.sampled_from(self._open_invoices()))
        want = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=invoice.balance + 10, places=2))
        payment = services.payment_record(organization=self.organization, actor=None, customer=invoice.customer,
                                          received_on=self.today, amount=want + extra, auto_allocate=False)
        try:
            services.payment_allocate(organization=self.organization, actor=None, payment=payment,
                                      allocations=[(invoice, want)])
        except DomainError:
            assert want > invoice.balance  # refused only when it would over-apply

    @precondition(lambda self: selectors.open_invoices(self.organization).exists())
    @rule(data=st.data())
    def credit_note(self, data):
        invoice = data.draw(st.sampled_from(self._open_invoices()))
        amount = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=invoice.balance, places=2))
        self.numbers += 1
        services.credit_note_create(organization=self.organization, actor=None, customer=invoice.customer,
                                    number=f"CN-{self.numbers}", issued_on=self.today, amount=amount, invoice=invoice)

    @precondition(lambda self: selectors.open_invoices(self.organization).exists())
    @rule(data=st.data())
    def write_off(self, data):
        invoice = data.draw(st.sampled_from(self._open_invoices()))
        services.invoice_write_off(organization=self.organization, actor=None, invoice=invoice,
                                   reason="uncollectable", written_off_on=self.today)

    @precondition(lambda self: selectors.open_invoices(self.organization).filter(applied_amount=0).exists())
    @rule(data=st.data())
    def void(self, data):
        candidates = list(selectors.open_invoices(self.organization).filter(applied_amount=0).order_by("pk"))
        invoice = data.draw(st.sampled_from(candidates))
        services.invoice_void(organization=self.organization, actor=None, invoice=invoice, voided_on=self.today)

    # --- undoing money, dated today (the services refuse dates after the real today: the clock is moved) ---

    def _on_today(self):
        return time_machine.travel(dt.datetime(self.today.year, self.today.month, self.today.day, 4, tzinfo=dt.UTC),
                                   tick=False)

    def _live_payments(self):
        return Payment.objects.filter(organization=self.organization, status="received")

    @precondition(lambda self: hasattr(self, "organization") and self._live_payments().exists())
    @rule(data=st.data())
    def reverse_payment(self, data):
        payment = data.draw(st.sampled_from(list(self._live_payments().order_by("pk"))))
        with self._on_today():
            services.payment_reverse(organization=self.organization, actor=None, payment=payment,
                                     reversed_on=self.today, reason="bounced")

    def _applied_cash(self):
        rows = (Allocation.objects.filter(organization=self.organization, kind="payment", payment__status="received")
                .values("payment_id", "invoice_id").annotate(s=Sum("amount")).filter(s__gt=0).order_by("payment_id",
                                                                                                        "invoice_id"))
        return list(rows)

    @precondition(lambda self: hasattr(self, "organization") and self._applied_cash())
    @rule(data=st.data())
    def unapply_and_reallocate(self, data):
        row = data.draw(st.sampled_from(self._applied_cash()))
        amount = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=row["s"], places=2))
        payment = Payment.objects.get(pk=row["payment_id"])
        invoice = Invoice.objects.get(pk=row["invoice_id"])
        with self._on_today():
            services.payment_unapply(organization=self.organization, actor=None, payment=payment, invoice=invoice,
                                     amount=amount, on=self.today)
            others = [i for i in self._open_invoices() if i.customer_id == payment.customer_id and i.pk != invoice.pk]
            if others and data.draw(st.booleans()):
                target = data.draw(st.sampled_from(others))
                payment.refresh_from_db()
                services.payment_allocate(organization=self.organization, actor=None, payment=payment,
                                          allocations=[(target, min(payment.unapplied_amount, target.balance))])

    @precondition(lambda self: hasattr(self, "organization")
                  and self._live_payments().filter(unapplied_amount__gt=0).exists())
    @rule(data=st.data())
    def refund(self, data):
        payment = data.draw(st.sampled_from(list(self._live_payments().filter(unapplied_amount__gt=0).order_by("pk"))))
        amount = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=payment.unapplied_amount, places=2))
        with self._on_today():
            services.payment_refund(organization=self.organization, actor=None, payment=payment, amount=amount,
                                    refunded_on=self.today)

    @precondition(lambda self: hasattr(self, "organization")
                  and WriteOff.objects.filter(organization=self.organization, reversed_amount__lt=F("amount")).exists())
    @rule(data=st.data())
    def reverse_write_off(self, data):
        write_off = data.draw(st.sampled_from(list(WriteOff.objects.filter(
            organization=self.organization, reversed_amount__lt=F("amount")).order_by("pk"))))
        left = write_off.amount - write_off.reversed_amount
        amount = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=left, places=2))
        with self._on_today():
            services.write_off_reverse(organization=self.organization, actor=None, write_off=write_off,
                                       reversed_on=self.today, reason="recovered", amount=amount)

    @precondition(lambda self: hasattr(self, "organization")
                  and CreditNote.objects.filter(organization=self.organization, status="issued").exists())
    @rule(data=st.data())
    def reverse_credit_note(self, data):
        note = data.draw(st.sampled_from(list(CreditNote.objects.filter(organization=self.organization,
                                                                         status="issued").order_by("pk"))))
        with self._on_today():
            services.credit_note_reverse(organization=self.organization, actor=None, credit_note=note,
                                         reversed_on=self.today, reason="error")

    @invariant()
    def buckets_sum_to_outstanding_which_is_invoiced_minus_applied(self):
        if not hasattr(self, "organization"):
            return
        report = selectors.aging_report(self.organization, self.today)
        live = self._invoices().filter(voided_on__isnull=True)
        invoiced = live.aggregate(s=Sum("total_amount"))["s"] or Decimal(0)
        applied = Allocation.objects.filter(organization=self.organization).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        assert report.total == invoiced - applied
        # Each bucket, worked out here from days past due (not from the selector's date ranges).
        expected = [Decimal(0)] * (len(self.organization.aging_buckets) + 2)
        for invoice in live:
            days = (self.today - invoice.due_date).days
            slot = 0 if days <= 0 else 1 + sum(days > bound for bound in self.organization.aging_buckets)
            expected[slot] += invoice.total_amount - invoice.applied_amount
        assert report.totals == expected
        assert sum(row.total for row in report.rows) == report.total
        assert all(amount >= 0 for row in report.rows for amount in row.amounts)
        per_invoice = live.aggregate(s=Sum(F("total_amount") - F("applied_amount")))["s"] or Decimal(0)
        assert per_invoice == report.total

    @invariant()
    def stored_figures_match_the_allocations(self):
        if not hasattr(self, "organization"):
            return
        for invoice in self._invoices():
            allocated = sum((a.amount for a in invoice.allocations.all()), Decimal(0))
            assert invoice.applied_amount == allocated <= invoice.total_amount
        for model in (Payment, CreditNote):
            for source in model.objects.filter(organization=self.organization):
                used = sum((a.amount for a in source.allocations.all()), Decimal(0))
                if source.status == "reversed":  # everything undone, the rest off the books
                    assert source.unapplied_amount == 0 == used
                else:
                    refunded = getattr(source, "refunded_amount", Decimal(0))
                    assert 0 <= source.unapplied_amount == source.amount - used - refunded
        for write_off in WriteOff.objects.filter(organization=self.organization):
            in_force = sum((a.amount for a in write_off.allocations.all()), Decimal(0))
            assert in_force == write_off.amount - write_off.reversed_amount >= 0

    @invariant()
    def aging_of_past_days_does_not_change(self):
        if not hasattr(self, "organization"):
            return
        for day, snapshot in self.snapshots.items():
            if day < self.today:
                assert self._snapshot(day) == snapshot, f"aging as of {day} changed"
        self.snapshots[self.today] = self._snapshot(self.today)

    def _snapshot(self, day):
        report = selectors.aging_report(self.organization, day)
        return tuple((row.customer_id, tuple(row.amounts)) for row in report.rows)


@pytest.mark.django_db
def test_ledger_invariants_hold_under_random_operations():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=25, stateful_step_count=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
    )
