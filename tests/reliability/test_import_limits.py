"""Importer denial of service: size and row limits (settings) checked before a file is parsed,
and the parsed rows kept for the mapping, preview and confirm steps (the file is read once)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.base import ContentFile

from receivables.importing import reader, services
from receivables.importing.errors import ImportInvalidError
from receivables.models import ImportJob


def _xlsx(rows: int) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["No", "Name"])
    for i in range(rows):
        sheet.append([f"C-{i}", "Acme"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def limits(settings):
    settings.IMPORT_MAX_ROWS = 1000
    settings.IMPORT_MAX_BYTES = 64 * 1024
    settings.IMPORT_MAX_XLSX_EXPANDED_BYTES = 1024 * 1024
    return settings


def _refused(data: bytes, name: str) -> str:
    with pytest.raises(ImportInvalidError) as raised:
        reader.table_read(io.BytesIO(data), name)
    [error] = raised.value.errors
    return error.message


def test_an_xlsx_with_too_many_rows_is_refused_before_its_rows_are_parsed(limits, monkeypatch):
    def never(data):
        raise AssertionError("the rows were parsed")

    monkeypatch.setattr(reader, "xlsx_read", never)
    assert _refused(_xlsx(1500), "big.xlsx") == "The file has more than 1,000 rows; split it into smaller files."


def test_a_csv_with_too_many_rows_is_refused(limits):
    data = b"No,Name\n" + b"".join(b"C-%d,Acme\n" % i for i in range(1500))
    assert _refused(data, "big.csv") == "The file has more than 1,000 rows; split it into smaller files."


def test_a_file_over_the_size_limit_is_refused(limits):
    limits.IMPORT_MAX_BYTES = 1024 * 1024
    data = b"No,Name\n" + b"C-1," + b"x" * (1100 * 1024) + b"\n"
    assert _refused(data, "big.csv") == "The file is larger than 1 MB; split it into smaller files."


def test_a_zip_bomb_spreadsheet_is_refused(limits):
    limits.IMPORT_MAX_ROWS = 10**9
    limits.IMPORT_MAX_BYTES = 10 * 1024 * 1024
    data = _xlsx(40_000)  # a few hundred KB that expand to megabytes of sheet XML
    assert len(data) < 1024 * 1024
    assert _refused(data, "bomb.xlsx") == ("The spreadsheet expands to more than 1 MB of data; split it into "
                                           "smaller files.")


def test_the_file_is_parsed_once_for_every_step(organization, admin_user, monkeypatch, django_capture_on_commit_callbacks):
    data = b"No,Name\nC-1,Acme\nC-2,Beta\n"
    with django_capture_on_commit_callbacks(execute=True):
        job = services.import_job_create(organization=organization, actor=admin_user, kind="customers",
                                         file=ContentFile(data), file_name="customers.csv")
    reads = []
    original = reader.csv_read
    monkeypatch.setattr(reader, "csv_read", lambda raw: reads.append(1) or original(raw))
    for _step in ("mapping", "preview", "confirm"):
        table = services.import_job_table(ImportJob.objects.get(pk=job.pk))
        assert [cells for _n, cells in table.rows] == [["C-1", "Acme"], ["C-2", "Beta"]]
    assert reads == []
