"""The life of an assigned invoice besides the factor's collection: the automatic repurchase
(recourse, N days past due; dunning resumes), silent factoring and discounting where the seller
collects and repays the advance, non-recourse where the factor bears the loss."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from factoring import services, tasks
from factoring.models import EntryKind, LineState, Repurchase, RepurchaseReason
from tenancy.errors import DomainError
from tests.factories import make_payment
from tests.factoring.conftest import facility_make, invoice_make

pytestmark = pytest.mark.django_db

FUNDED = dt.date(2026, 3, 2)


def _funded(organization, facility, invoices):
    assignment = services.assignment_create(organization=organization, actor=None, facility=facility,
                                            invoices=[i.pk for i in invoices], assigned_on=FUNDED)
    services.assignment_submit(organization=organization, actor=None, assignment=assignment)
    services.assignment_fund(organization=organization, actor=None, assignment=assignment, funded_on=FUNDED,
                             amount_received=assignment.advance_total - assignment.fee_total)
    return assignment


def test_recourse_invoices_are_repurchased_n_days_after_due(organization, buyer):
    facility = facility_make(organization, repurchase_after_days=30)
    late = invoice_make(organization, buyer, "10000", due=dt.date(2026, 3, 10))
    later = invoice_make(organization, buyer, "10000", due=dt.date(2026, 3, 20))
    assignment = _funded(organization, facility, [late, later])
    assert services.repurchases_run(organization=organization, today=dt.date(2026, 4, 9)) == 0  # 30 days: not yet
    assert services.repurchases_run(organization=organization, today=dt.date(2026, 4, 10)) == 1
    assert services.repurchases_run(organization=organization, today=dt.date(2026, 4, 10)) == 0  # safe twice
    repurchase = Repurchase.objects.get()
    assert (repurchase.line.invoice_id, repurchase.reason) == (late.pk, RepurchaseReason.OVERDUE)
    # the seller repays the advance 8,500 and 39 days of interest: 8,500 x 8.5% x 39 / 360 = 78.27
    assert (repurchase.advance_repaid, repurchase.interest) == (Decimal("8500.00"), Decimal("78.27"))
    assert assignment.lines.get(invoice=later).state == LineState.ASSIGNED


def test_without_recourse_nothing_is_repurchased_and_the_factor_settles(organization, buyer):
    facility = facility_make(organization, recourse=False, repurchase_after_days=30)
    invoice = invoice_make(organization, buyer, "10000", due=dt.date(2026, 3, 10))
    line = _funded(organization, facility, [invoice]).lines.get()
    assert services.repurchases_run(organization=organization, today=dt.date(2026, 6, 1)) == 0
    with pytest.raises(DomainError, match="without recourse: the factor bears the loss"):
        services.line_repurchase(organization=organization, actor=None, line=line, repurchased_on=dt.date(2026, 6, 1))
    # the debtor is insolvent: the factor settles the invoice (recorded as the factor's settlement)
    line = services.collection_record(organization=organization, actor=None, line=line, amount="10000",
                                      collected_on=dt.date(2026, 6, 1), reference="Insolvency settlement",
                                      by_factor=True)
    assert line.state == LineState.COLLECTED
    invoice.refresh_from_db()
    assert invoice.balance == 0


def test_silent_discounting_the_seller_collects_and_repays_the_advance(organization, buyer):
    facility = facility_make(organization, mode="discounting", disclosed=False, day_count=365)
    invoice = invoice_make(organization, buyer, "10000")
    line = _funded(organization, facility, [invoice]).lines.get()
    make_payment(organization, buyer, amount="10000", received_on=dt.date(2026, 4, 1))
    assert tasks.factoring_daily_task(organization.pk) == {"repurchased": 0, "settled": 0}  # paid in the future
    with time_machine.travel(dt.datetime(2026, 4, 2, 4, 0, tzinfo=dt.UTC), tick=False):
        assert tasks.factoring_daily_task(organization.pk) == {"repurchased": 0, "settled": 1}
        assert tasks.factoring_daily_task(organization.pk) == {"repurchased": 0, "settled": 0}
    line.refresh_from_db()
    # 8,500 x 8.5% x 30 / 365 = 59.38 interest; the seller keeps 10,000 - 8,500 - 125 - 59.38
    assert (line.state, line.ended_on, line.interest) == (LineState.COLLECTED, dt.date(2026, 4, 1), Decimal("59.38"))
    assert line.reserve_released == Decimal("1315.62")
    kinds = dict(line.entries.filter(kind__in=[EntryKind.ADVANCE, EntryKind.ADVANCE_REPAID])
                 .values_list("kind", "amount"))
    assert kinds == {EntryKind.ADVANCE: Decimal("8500.00"), EntryKind.ADVANCE_REPAID: Decimal("-8500.00")}


def test_webhook_events_announce_the_assignment_life(organization, buyer):
    from tenancy.models import WebhookEvent

    facility = facility_make(organization)
    invoice = invoice_make(organization, buyer, "10000")
    line = _funded(organization, facility, [invoice]).lines.get()
    services.collection_record(organization=organization, actor=None, line=line, amount="10000",
                               collected_on=dt.date(2026, 4, 1))
    types = list(WebhookEvent.objects.filter(organization=organization, type__startswith="factoring.")
                 .order_by("pk").values_list("type", flat=True))
    assert types == ["factoring.assignment_created", "factoring.assignment_funded", "factoring.reserve_released"]
    payload = WebhookEvent.objects.get(organization=organization, type="factoring.reserve_released").payload
    assert payload["amount"] == "1314.79" and payload["number"] == invoice.number
