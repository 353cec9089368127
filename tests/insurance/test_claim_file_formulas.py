"""The claim file's CSVs (invoices, statement, timeline, disputes) go through tenancy.spreadsheet like
every other export (issue 13 item 3): an invoice number or a note that starts a formula stays text."""

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
import time_machine

from dunning import services as dunning_services
from insurance import services
from insurance.claim_file import claim_file_zip

from .conftest import invoice

pytestmark = pytest.mark.django_db


def _cells(archive: zipfile.ZipFile, name: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))) for cell in row]


def test_claim_file_csvs_keep_formula_text_as_text(organization, policy, covered_buyer):
    number = "=HYPERLINK(\"http://evil.example\",\"x\")"
    bad = invoice(organization, covered_buyer, "1000.00", issued=dt.date(2026, 1, 1), due=dt.date(2026, 1, 31),
                  number=number)
    with time_machine.travel(dt.datetime(2026, 3, 10, 4, tzinfo=dt.UTC), tick=False):
        dunning_services.dispute_open(organization=organization, actor=None, invoice=bad, reason="price",
                                      amount=Decimal("100.00"))
        services.declaration_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                    kind="overdue", invoices=[bad])
        claim = services.claim_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                      invoices=[bad])
    archive = zipfile.ZipFile(io.BytesIO(claim_file_zip(organization, claim)))
    for name in ("invoices.csv", "statement.csv", "disputes.csv"):
        cells = _cells(archive, name)
        assert "'" + number in cells, name
        assert number not in cells, name
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in _cells(archive, "timeline.csv"))
