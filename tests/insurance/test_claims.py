"""The worked claim, to the cent, each step shown; filing deadlines; the insurer's decision; the
indemnity settling the invoices through the ledger and the uninsured rest written off; recoveries
after payment shared per the insured percentage."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from dunning import services as dunning_services
from insurance import selectors, services
from insurance.models import ClaimStatus
from receivables.models import Allocation, Invoice, InvoiceStatus
from tenancy.errors import DomainError
from tenancy.models import AuditEntry

pytestmark = pytest.mark.django_db
D = dt.date


def test_expected_indemnity_worked_example_step_by_step():
    # covered loss 200,000.00 - recoveries 12,345.67 = 187,654.33 (>= threshold 5,000.00)
    # x 90% = 168,888.897 -> 168,888.90 (half up, once) - deductible 1,000.00 = 167,888.90
    result = selectors.expected_indemnity(
        currency="CNY", outstanding=Decimal("250345.67"), covered_loss=Decimal("200000.00"),
        recoveries=Decimal("12345.67"), insured_percentage=Decimal("90.00"), claim_threshold=Decimal("5000.00"),
        deductible=Decimal("1000.00"))
    assert [(s.key, s.amount) for s in result.steps] == [
        ("outstanding", Decimal("250345.67")),
        ("covered_loss", Decimal("200000.00")),
        ("recoveries", Decimal("-12345.67")),
        ("net_loss", Decimal("187654.33")),
        ("threshold", Decimal("187654.33")),
        ("insured_share", Decimal("168888.90")),
        ("deductible", Decimal("-1000.00")),
        ("expected", Decimal("167888.90")),
    ]
    assert result.expected == Decimal("167888.90")


def test_below_the_threshold_nothing_is_paid():
    result = selectors.expected_indemnity(
        currency="CNY", outstanding=Decimal("6000"), covered_loss=Decimal("6000"), recoveries=Decimal("1000.01"),
        insured_percentage=Decimal("90"), claim_threshold=Decimal("5000"), deductible=Decimal("0"))
    assert (result.expected, result.steps[-1].key) == (Decimal("0"), "threshold")


def test_japanese_yen_rounds_to_whole_units():
    result = selectors.expected_indemnity(
        currency="JPY", outstanding=Decimal("1001"), covered_loss=Decimal("1001"), recoveries=Decimal("0"),
        insured_percentage=Decimal("90"), claim_threshold=Decimal("0"), deductible=Decimal("0"))
    assert result.expected == Decimal("901")  # 900.9 -> 901


def _notify_all(organization, policy, buyer, invoices, day):
    with time_machine.travel(dt.datetime.combine(day, dt.time(4), tzinfo=dt.UTC), tick=False):
        return services.declaration_create(organization=organization, actor=None, policy=policy, customer=buyer,
                                           kind="overdue", invoices=invoices)


def test_the_worked_claim_from_the_ledger(organization, policy, covered_buyer, three_invoices):
    # given A, B, C (250,345.67 open), 10,000.00 of B disputed, all notified on 1 April
    a, b, c = three_invoices
    with time_machine.travel(dt.datetime(2026, 3, 10, 4, tzinfo=dt.UTC), tick=False):
        dunning_services.dispute_open(organization=organization, actor=None, invoice=b, reason="quality",
                                      amount=Decimal("10000.00"))
    _notify_all(organization, policy, covered_buyer, [a, b, c], D(2026, 4, 1))
    # when the claim is drafted with 12,345.67 recovered (goods taken back)
    with time_machine.travel(dt.datetime(2026, 4, 10, 4, tzinfo=dt.UTC), tick=False):
        claim = services.claim_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                      invoices=[c, a, b], recoveries="12345.67")
    # then: covered 120,345.67 + 70,000.00 + 9,654.33 = 200,000.00; the indemnity 167,888.90
    assert {line.invoice.number: line.covered_amount for line in claim.lines.select_related("invoice")} == {
        "A": Decimal("120345.67"), "B": Decimal("70000.00"), "C": Decimal("9654.33")}
    assert (claim.outstanding, claim.covered_loss, claim.expected_indemnity) == (
        Decimal("250345.67"), Decimal("200000.00"), Decimal("167888.90"))
    assert [step["key"] for step in claim.computation][-1] == "expected"
    assert claim.status == ClaimStatus.DRAFT


def test_claim_lifecycle_pays_through_the_ledger_and_writes_off_the_rest(organization, policy, covered_buyer,
                                                                        three_invoices):
    a, b, c = three_invoices
    _notify_all(organization, policy, covered_buyer, [a, b, c], D(2026, 4, 1))
    with time_machine.travel(dt.datetime(2026, 4, 10, 4, tzinfo=dt.UTC), tick=False):
        claim = services.claim_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                      invoices=[a, b, c])
        # 200,000.00 x 90% - 1,000.00
        assert claim.expected_indemnity == Decimal("179000.00")
        services.claim_file(organization=organization, actor=None, claim=claim)
        with pytest.raises(DomainError, match="needs it Draft"):
            services.claim_file(organization=organization, actor=None, claim=claim)
    services.claim_decide(organization=organization, actor=None, claim=claim, accepted=True,
                          decided_on=D(2026, 5, 5))
    claim = services.claim_pay(organization=organization, actor=None, claim=claim, amount="179000.00",
                               paid_on=D(2026, 6, 1), write_off_rest=True)
    assert claim.status == ClaimStatus.PAID
    # the receipt settles A then B (oldest due first); the rest of B and all of C are written off
    paid = {al.invoice.number: al.amount for al in Allocation.objects.filter(payment=claim.payment)
            .select_related("invoice")}
    assert paid == {"A": Decimal("120345.67"), "B": Decimal("58654.33")}
    statuses = dict(Invoice.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("number", "status"))
    assert statuses == {"A": InvoiceStatus.PAID, "B": InvoiceStatus.WRITTEN_OFF, "C": InvoiceStatus.WRITTEN_OFF}
    assert Invoice.objects.get(pk=b.pk).written_off_amount == Decimal("21345.67")
    # a recovery after the indemnity: 90% of 1,234.57 = 1,111.113 -> 1,111.11 to the insurer
    recovery = services.claim_recovery_record(organization=organization, actor=None, claim=claim,
                                              amount="1234.57", received_on=D(2026, 7, 1))
    assert (recovery.insurer_share, recovery.policyholder_share) == (Decimal("1111.11"), Decimal("123.46"))
    actions = set(AuditEntry.objects.filter(organization=organization, action__startswith="insurance.claim")
                  .values_list("action", flat=True))
    assert actions == {"insurance.claim_created", "insurance.claim_filed", "insurance.claim_decided",
                       "insurance.claim_paid"}


def test_claim_needs_notification_and_respects_the_filing_deadline(organization, policy, covered_buyer,
                                                                    three_invoices):
    a, _b, _c = three_invoices
    with (time_machine.travel(dt.datetime(2026, 3, 5, 4, tzinfo=dt.UTC), tick=False),
          pytest.raises(DomainError, match="never notified")):
        services.claim_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                              invoices=[a])
    _notify_all(organization, policy, covered_buyer, [a], D(2026, 3, 5))
    with time_machine.travel(dt.datetime(2026, 6, 1, 4, tzinfo=dt.UTC), tick=False):
        claim = services.claim_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                      invoices=[a])
    with pytest.raises(DomainError, match="cover is lost"):  # 1 July: A's claim_by (30 June) has passed
        services.claim_file(organization=organization, actor=None, claim=claim, filed_on=D(2026, 7, 1))
    with pytest.raises(DomainError, match="in another claim"):
        services.claim_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                              invoices=[a], as_of=D(2026, 6, 1))


def test_rejected_claim_needs_a_reason_and_frees_the_invoices(organization, policy, covered_buyer, three_invoices):
    a = three_invoices[0]
    _notify_all(organization, policy, covered_buyer, [a], D(2026, 3, 5))
    claim = services.claim_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                  invoices=[a], as_of=D(2026, 4, 1))
    services.claim_file(organization=organization, actor=None, claim=claim, filed_on=D(2026, 4, 1))
    with pytest.raises(DomainError, match="reason"):
        services.claim_decide(organization=organization, actor=None, claim=claim, accepted=False,
                              decided_on=D(2026, 4, 20))
    services.claim_decide(organization=organization, actor=None, claim=claim, accepted=False,
                          reason="Goods delivered after cover was withdrawn", decided_on=D(2026, 4, 20))
    again = services.claim_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                  invoices=[a], as_of=D(2026, 4, 21))
    assert again.status == ClaimStatus.DRAFT


def test_expected_indemnities_and_cover_by_invoice_for_forecasting(organization, policy, covered_buyer,
                                                                   three_invoices):
    a, b, c = three_invoices
    covers = selectors.insured_cover_by_invoice(organization, as_of=D(2026, 3, 1))
    assert covers[a.pk] == (Decimal("120345.67"), Decimal("0.9"))
    assert covers[b.pk][0] == Decimal("79654.33") and c.pk not in covers
    _notify_all(organization, policy, covered_buyer, [a, b], D(2026, 3, 20))
    claim = services.claim_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                  invoices=[a, b], as_of=D(2026, 4, 1))
    services.claim_file(organization=organization, actor=None, claim=claim, filed_on=D(2026, 4, 1))
    # waiting period 150 days from the notification (20 March -> 17 August), paid 30 days later
    flows = selectors.expected_indemnities(organization, start=D(2026, 9, 1), end=D(2026, 9, 30))
    assert {f["date"] for f in flows} == {D(2026, 9, 16)}
    assert sum(f["amount"] for f in flows) == claim.expected_indemnity == Decimal("179000.00")
    assert {f["kind"] for f in flows} == {"indemnity"} and {f["invoice_id"] for f in flows} == {a.pk, b.pk}
    assert selectors.expected_indemnities(organization, start=D(2026, 4, 1), end=D(2026, 8, 31)) == []
