"""Migration 0005: credit notes and write-offs that existed before it get their created_at as updated_at."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from receivables import services
from receivables.models import CreditNote, WriteOff
from tests.factories import make_invoice

BEFORE = [("receivables", "0004_invoice_org_voided_idx")]
AFTER = [("receivables", "0005_credit_note_write_off_updated_at")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_existing_rows_start_with_their_created_at(organization, customer):
    created = dt.datetime(2025, 11, 3, 9, 30, tzinfo=dt.UTC)
    with time_machine.travel(created, tick=False):
        invoice = make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2025, 11, 1))
        note = services.credit_note_create(organization=organization, actor=None, customer=customer, number="CN-1",
                                           issued_on=dt.date(2025, 11, 2), amount="10.00")
        write_off = services.invoice_write_off(organization=organization, actor=None, invoice=invoice,
                                               reason="insolvent", amount="5.00")
    _migrate(BEFORE)
    try:
        _migrate(AFTER)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert CreditNote.objects.get(pk=note.pk).updated_at == created
    assert WriteOff.objects.get(pk=write_off.pk).updated_at == created
