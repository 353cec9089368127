"""The import a finance user finishes alone (issue 14 item 7) and the upload that does not parse
(issue 13 item 7): the upload request stores and queues, a task reads once, columns are matched
by name and synonym in both languages, saved and uploaded mappings, limits and bad files."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from receivables.importing import reader
from receivables.importing.forms import MappingForm
from receivables.importing.mapping import mapping_from_dict
from receivables.importing.matching import SHARED, SYNONYM, columns_match
from receivables.importing.tasks import import_read_task
from receivables.models import Customer, ImportJob, ImportMapping, ImportStatus, Invoice
from tests.factories import MembershipFactory

MAPPINGS = Path(settings.BASE_DIR) / "docs" / "mappings"
DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
# The header and first rows of the data set each docs/mappings file was written for.
SOURCES = {
    "ibm_watson_customers.json": "WA_Fn-UseC_-Accounts-Receivable.csv",
    "ibm_watson_invoices.json": "WA_Fn-UseC_-Accounts-Receivable.csv",
    "ibm_watson_payments.json": "WA_Fn-UseC_-Accounts-Receivable.csv",
    "highradius_open_items.json": "highradius_2022_open_items_nulldata.csv",
}

ZH_CSV = ("客户名称,发票号,开票日期,到期日,金额,币种\n"
          "上海东方贸易,FP-001,2026/01/05,2026/02/04,\"1,234.50\",CNY\n"
          "北京北方实业,FP-002,2026/01/06,2026/03/07,880.00,CNY\n").encode()
EN_CSV = (b"Bill-to name,Invoice No.,Invoice Date,Due Date,Amount,Currency\n"
          b"Shanghai East Trading,INV-1,01/13/2026,02/12/2026,1234.50,USD\n"
          b"Beijing North,INV-2,01/14/2026,03/15/2026,99.00,USD\n")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def signed_in(client, collector):
    client.force_login(collector)
    return client


def _post_upload(client, name: str, data: bytes, kind: str = "invoices"):
    return client.post(reverse("importing:start"), {"kind": kind, "file": SimpleUploadedFile(name, data)})


def _upload_and_read(client, name: str, data: bytes, kind: str = "invoices") -> ImportJob:
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = _post_upload(client, name, data, kind)
    assert response.status_code == 302, response.content.decode()
    return ImportJob.objects.latest("pk")


def _xlsx(rows: int) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["Invoice No.", "Customer Name", "Invoice Date", "Amount"])
    for i in range(rows):
        sheet.append([f"INV-{i}", "Acme", "2026-01-05", "10.00"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _selected(page: str, field: str) -> str | None:
    """The option selected in the select of one of our fields on the mapping page."""
    start = page.index(f'name="col_{field}"')
    select = page[start:page.index("</select>", start)]
    marker = " selected>"
    if marker not in select:
        return None
    return select[:select.index(marker)].rsplit('value="', 1)[1].rstrip('"') or None


def _mapping_post(mapping) -> dict:
    """What the mapping form posts when the user accepts what it shows."""
    initial = MappingForm.initial_from(mapping)
    return {key: value if value is not None else "" for key, value in initial.items()}


# --- the upload does not parse -------------------------------------------------------------

def test_the_upload_stores_and_queues_and_the_task_parses_once(signed_in, organization, monkeypatch):
    parsed = []
    original = reader.xlsx_read
    monkeypatch.setattr(reader, "xlsx_read", lambda data, progress=None: parsed.append(1) or original(data, progress))

    # when: the upload request (its queued work held back, as a busy worker would)
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        started = time.perf_counter()
        response = _post_upload(signed_in, "big.xlsx", _xlsx(3000))
        elapsed = time.perf_counter() - started

    # then: it answered without parsing, with a job being read and its progress
    job = ImportJob.objects.get(organization=organization)
    assert response.status_code == 302 and response["Location"] == reverse("importing:job", kwargs={"pk": job.pk})
    assert parsed == [] and len(queued) == 1
    assert (job.status, job.total_rows) == (ImportStatus.READING, 0)
    assert job.file.name.startswith(f"imports/{organization.pk}/") and "big" not in job.file.name
    status = signed_in.get(reverse("importing:status", kwargs={"pk": job.pk})).json()
    assert (status["status"], status["phase"], status["finished"]) == ("reading", "reading", False)
    page = signed_in.get(reverse("importing:job", kwargs={"pk": job.pk})).content.decode()
    assert 'id="import-progress"' in page and "js/import.js" in page and "<script>" not in page
    assert signed_in.get(reverse("importing:mapping", kwargs={"pk": job.pk}))["Location"] == \
        reverse("importing:job", kwargs={"pk": job.pk})  # nothing to map before the file is read
    assert elapsed < 5  # generous: the point is that no parse happened (measured: ~0.05 s)

    # when: the worker runs the task (twice: a second delivery changes nothing)
    for callback in queued:
        callback()
    import_read_task.apply(args=(job.pk,))

    # then: read once, rows kept, the mapping is next
    job.refresh_from_db()
    assert parsed == [1]
    assert (job.status, job.total_rows) == (ImportStatus.PENDING, 3000)
    assert signed_in.get(reverse("importing:job", kwargs={"pk": job.pk}))["Location"] == \
        reverse("importing:mapping", kwargs={"pk": job.pk})
    assert signed_in.get(reverse("importing:mapping", kwargs={"pk": job.pk})).status_code == 200
    assert parsed == [1]


def test_rows_that_expired_from_the_cache_are_read_again_in_the_background(signed_in, organization):
    from django.core.cache import cache

    job = _upload_and_read(signed_in, "en.csv", EN_CSV)
    key = f"import:table:{job.pk}:{job.file.name}"
    cache.delete_many([key, key + ":head"])

    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        response = signed_in.get(reverse("importing:mapping", kwargs={"pk": job.pk}))

    job.refresh_from_db()
    assert response["Location"] == reverse("importing:job", kwargs={"pk": job.pk})
    assert job.status == ImportStatus.READING and len(queued) == 1
    queued[0]()
    job.refresh_from_db()
    assert job.status == ImportStatus.PENDING
    assert signed_in.get(reverse("importing:mapping", kwargs={"pk": job.pk})).status_code == 200


def test_a_read_lost_with_its_process_is_queued_again_when_the_page_asks(signed_in, organization):
    from django.core.cache import cache

    with TestCase.captureOnCommitCallbacks(execute=False):  # the server stops before it reads the file
        _post_upload(signed_in, "en.csv", EN_CSV)
    job = ImportJob.objects.get(organization=organization)
    cache.delete(f"inflow:import-progress:{job.pk}")  # a restart of the embedded default forgets its progress

    with TestCase.captureOnCommitCallbacks(execute=True) as queued:
        status = signed_in.get(reverse("importing:status", kwargs={"pk": job.pk})).json()
        signed_in.get(reverse("importing:status", kwargs={"pk": job.pk}))  # asked again: queued once

    assert status["status"] == "reading" and len(queued) == 1
    job.refresh_from_db()
    assert (job.status, job.total_rows) == (ImportStatus.PENDING, 2)


def test_tasks_run_in_a_thread_only_on_the_embedded_default(settings):
    import os
    import subprocess
    import sys

    from receivables.importing.dispatch import in_thread

    def configured(**env) -> str:
        environ = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")}
        code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup(); "
                "from django.conf import settings; print(settings.IMPORT_TASKS_IN_THREAD)")
        return subprocess.run([sys.executable, "-c", code], env={**environ, **env}, capture_output=True, text=True,
                              cwd=settings.BASE_DIR, check=True).stdout.strip()

    assert configured() == "True"  # make run: SQLite, no Redis, eager tasks
    assert configured(REDIS_URL="redis://127.0.0.1:6379/6") == "False"  # a worker runs them
    settings.CELERY_TASK_ALWAYS_EAGER, settings.IMPORT_TASKS_IN_THREAD = True, True
    assert in_thread()
    settings.CELERY_TASK_ALWAYS_EAGER = False  # tasks go to a worker, whatever the setting says
    assert not in_thread()


@pytest.mark.django_db(transaction=True)
def test_without_a_worker_the_read_runs_beside_the_request_and_the_bar_moves(client, settings, tmp_path):
    from tests.factories import OrganizationFactory

    settings.IMPORT_TASKS_IN_THREAD = True
    organization = OrganizationFactory(name="Acme Trading", slug="acme-thread", base_currency="CNY")
    client.force_login(MembershipFactory(organization=organization, role="collector").user)

    response = _post_upload(client, "big.xlsx", _xlsx(20_000))
    job = ImportJob.objects.get(organization=organization)
    assert response.status_code == 302

    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = client.get(reverse("importing:status", kwargs={"pk": job.pk})).json()
        seen.append((status["status"], status["percent"]))
        if status["status"] != "reading":
            break
        time.sleep(0.05)
    job.refresh_from_db()
    assert (job.status, job.total_rows) == (ImportStatus.PENDING, 20_000), seen
    assert seen[0][0] == "reading"
    assert any(0 < percent < 100 for state, percent in seen if state == "reading"), seen


# --- limits and bad files ------------------------------------------------------------------

@pytest.fixture
def limits(settings):
    settings.IMPORT_MAX_ROWS = 1000
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    settings.IMPORT_MAX_XLSX_EXPANDED_BYTES = 1024 * 1024


def _form_error(response) -> str:
    page = response.content.decode()
    start = page.index('data-testid="error-file"')
    return page[page.index(">", start) + 1:page.index("</p>", start)]


def test_a_file_over_the_size_limit_is_refused_by_the_upload_itself(signed_in, limits):
    response = _post_upload(signed_in, "big.csv", b"No,Name\n" + b"C-1," + b"x" * (1100 * 1024) + b"\n")

    assert response.status_code == 200
    assert _form_error(response) == "The file is larger than 1 MB; split it into smaller files."
    assert not ImportJob.objects.exists()


def test_a_zip_bomb_is_refused_by_the_upload_itself(signed_in, limits, settings):
    settings.IMPORT_MAX_ROWS = 10**9
    response = _post_upload(signed_in, "bomb.xlsx", _xlsx(40_000))

    assert _form_error(response) == "The spreadsheet expands to more than 1 MB of data; split it into smaller files."
    assert not ImportJob.objects.exists()


def test_too_many_rows_fail_the_read_with_a_clear_message_and_change_nothing(signed_in, limits, organization):
    job = _upload_and_read(signed_in, "rows.xlsx", _xlsx(1500))

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert [e["message"] for e in job.errors] == ["The file has more than 1,000 rows; split it into smaller files."]
    page = signed_in.get(reverse("importing:job", kwargs={"pk": job.pk})).content.decode()
    assert "The file has more than 1,000 rows; split it into smaller files." in page
    assert "1 problem; nothing was imported." in page
    assert not Invoice.objects.exists() and not Customer.objects.exists()


def test_a_damaged_spreadsheet_fails_the_read_with_a_clear_message(signed_in, organization):
    job = _upload_and_read(signed_in, "damaged.xlsx", b"PK\x03\x04 this is not a workbook")

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    [error] = job.errors
    assert error["row"] == 1 and error["message"].startswith("The Excel file cannot be read")
    assert not Invoice.objects.exists() and not Customer.objects.exists()


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused_at_once(signed_in):
    response = _post_upload(signed_in, "ledger.pdf", b"%PDF-1.4")
    assert _form_error(response) == "Upload a .csv or .xlsx file."
    assert not ImportJob.objects.exists()


# --- columns matched by name and synonym, both languages ------------------------------------

@pytest.mark.parametrize(("header", "expected"), [
    (["客户名称", "发票号", "开票日期", "到期日", "金额", "币种"],
     {"customer_name": "客户名称", "number": "发票号", "issue_date": "开票日期", "due_date": "到期日",
      "total_amount": "金额", "currency": "币种", "external_id": "发票号", "customer_external_id": "客户名称"}),
    (["Customer Name", "Invoice No.", "Invoice Date", "Due Date", "Amount", "Currency"],
     {"customer_name": "Customer Name", "number": "Invoice No.", "issue_date": "Invoice Date",
      "due_date": "Due Date", "total_amount": "Amount", "currency": "Currency", "external_id": "Invoice No.",
      "customer_external_id": "Customer Name"}),
    (["Bill-to name", "Customer ID", "INVOICE_NO", "Date", "Due date", "Net", "VAT", "Total"],
     {"customer_name": "Bill-to name", "customer_external_id": "Customer ID", "number": "INVOICE_NO",
      "issue_date": "Date", "due_date": "Due date", "net_amount": "Net", "tax_amount": "VAT",
      "total_amount": "Total", "external_id": "INVOICE_NO"}),
])
def test_invoice_columns_are_matched_by_name_and_synonym_in_both_languages(header, expected):
    matches = columns_match("invoices", header)
    assert {name: match.column for name, match in matches.items()} == expected
    assert matches["external_id"].how == SHARED and matches["external_id"].confidence < 60


def test_payment_and_customer_columns_are_matched_too():
    payments = columns_match("payments", ["收款日期", "客户编号", "收款金额", "币种", "付款方式", "备注"])
    assert {n: m.column for n, m in payments.items()} == {
        "received_on": "收款日期", "customer_external_id": "客户编号", "amount": "收款金额", "currency": "币种",
        "method": "付款方式", "reference": "备注", "external_id": "备注"}
    customers = columns_match("customers", ["Customer Code", "Company Name", "Country", "Payment Terms", "E-mail"])
    assert {n: m.column for n, m in customers.items()} == {
        "external_id": "Customer Code", "name": "Company Name", "country": "Country",
        "payment_terms_days": "Payment Terms", "contact_emails": "E-mail"}
    assert customers["name"].how == SYNONYM


def test_the_mapping_page_preselects_matched_columns_with_their_confidence_and_imports_them(
        signed_in, organization):
    job = _upload_and_read(signed_in, "发票.csv", ZH_CSV)

    page = signed_in.get(reverse("importing:mapping", kwargs={"pk": job.pk})).content.decode()

    assert _selected(page, "customer_name") == "客户名称" and _selected(page, "number") == "发票号"
    assert _selected(page, "due_date") == "到期日" and _selected(page, "total_amount") == "金额"
    assert _selected(page, "customer_external_id") == "客户名称" and _selected(page, "tax_amount") is None
    assert 'value="%Y/%m/%d"' in page  # the date format, read from the values
    assert "8 fields were matched to columns by their names." in page
    assert 'data-testid="match-due_date"><span class="match match-exact"' in page
    assert "Auto · 100%" in page and "Auto · 50%" in page and "Same column as another field" in page
    for field in ("col_number", "date_format", "save_as"):  # every input has its label
        assert f'<label for="id_{field}">' in page

    # when: the user accepts what is shown, previews and confirms
    form = {**_mapping_post(mapping_from_dict({
        "kind": "invoices", "columns": {"customer_name": "客户名称", "customer_external_id": "客户名称",
                                        "number": "发票号", "external_id": "发票号", "issue_date": "开票日期",
                                        "due_date": "到期日", "total_amount": "金额", "currency": "币种"},
        "date_format": "%Y/%m/%d"}))}
    assert signed_in.post(reverse("importing:mapping", kwargs={"pk": job.pk}), form).status_code == 302
    signed_in.post(reverse("importing:confirm", kwargs={"pk": job.pk}))

    # then
    invoices = Invoice.objects.filter(organization=organization).order_by("number")
    assert [(i.number, str(i.total_amount), i.customer.name) for i in invoices] == [
        ("FP-001", "1234.5000", "上海东方贸易"), ("FP-002", "880.0000", "北京北方实业")]


def test_the_chinese_page_shows_matches_in_chinese(signed_in, organization, collector):
    from tenancy.models import UserProfile

    UserProfile.objects.update_or_create(user=collector, defaults={"language": "zh-hans"})
    job = _upload_and_read(signed_in, "en.csv", EN_CSV)

    page = signed_in.get(reverse("importing:mapping", kwargs={"pk": job.pk})).content.decode()

    assert _selected(page, "customer_name") == "Bill-to name" and 'value="%m/%d/%Y"' in page
    assert "自动 · 95%" in page and "Auto ·" not in page and "匹配" in page


# --- saved and uploaded mappings -----------------------------------------------------------

def test_a_saved_mapping_is_reused_and_belongs_to_its_organization(signed_in, organization, other_organization,
                                                                   client):
    job = _upload_and_read(signed_in, "en.csv", EN_CSV)
    mapping = mapping_from_dict({"kind": "invoices", "columns": {
        "number": "Invoice No.", "external_id": "Invoice No.", "customer_external_id": "Bill-to name",
        "issue_date": "Invoice Date", "total_amount": "Amount", "currency": "Currency"}, "date_format": "%m/%d/%Y"})
    signed_in.post(reverse("importing:mapping", kwargs={"pk": job.pk}),
                   {**_mapping_post(mapping), "save_as": "Kingdee export"})
    saved = ImportMapping.objects.get(organization=organization, name="Kingdee export")

    second = _upload_and_read(signed_in, "en.csv", EN_CSV)
    page = signed_in.get(reverse("importing:mapping", kwargs={"pk": second.pk}), {"saved": saved.pk}).content.decode()
    assert "Loaded the saved mapping “Kingdee export”." in page
    assert _selected(page, "customer_external_id") == "Bill-to name" and _selected(page, "due_date") is None

    rival = MembershipFactory(organization=other_organization, role="admin").user
    client.force_login(rival)
    theirs = _upload_and_read(client, "en.csv", EN_CSV)
    assert client.get(reverse("importing:mapping", kwargs={"pk": theirs.pk}), {"saved": saved.pk}).status_code == 404


def _source_csv(source: str, rows: int = 3) -> bytes:
    with (DATA / source).open("rb") as file:
        return b"".join(file.readline() for _ in range(rows + 1))


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_each_mapping_file_in_docs_loads_as_it_is(signed_in, organization, name):
    assert sorted(p.name for p in MAPPINGS.glob("*.json")) == sorted(SOURCES)  # a new file needs a case here
    document = json.loads((MAPPINGS / name).read_text())
    job = _upload_and_read(signed_in, SOURCES[name], _source_csv(SOURCES[name]), kind=document["kind"])

    # when: the file is uploaded on the mapping page, exactly as it is in the repository
    response = signed_in.post(reverse("importing:mapping", kwargs={"pk": job.pk}), {
        "load_file": "1", "mapping_file": SimpleUploadedFile(name, (MAPPINGS / name).read_bytes())})

    # then: every column of the file is preselected, options and defaults included, no error
    page = response.content.decode()
    assert response.status_code == 200 and f"Loaded the mapping file {name}." in page
    assert 'data-testid="form-errors"' not in page
    mapping = mapping_from_dict(document)
    for field, spec in mapping.columns.items():
        assert _selected(page, field) == spec.column, field
    assert f'value="{mapping.date_format}"' in page

    # and accepting it stores the same mapping on the job
    response = signed_in.post(reverse("importing:mapping", kwargs={"pk": job.pk}), _mapping_post(mapping))
    assert response.status_code == 302, response.content.decode()
    job.refresh_from_db()
    assert job.mapping == mapping.as_dict()


@pytest.mark.parametrize(("content", "message"), [
    (b"{not json", "broken.json is not valid JSON"),
    (b'{"kind": "payments", "columns": {}}', "This mapping is for payments, not invoices."),
    (b'{"kind": "invoices", "columns": {"number": {"col": "x"}}}',
     "A column must be a column name or an object with a &quot;column&quot; key."),
    (b"[" * 60_000, "broken.json is not valid JSON"),
    (b"{}" + b" " * 70_000, "A mapping file is at most 64 KB."),
], ids=["not-json", "other-kind", "bad-column", "deeply-nested", "too-big"])
def test_a_bad_mapping_file_is_a_clear_error_and_changes_nothing(signed_in, organization, content, message):
    job = _upload_and_read(signed_in, "en.csv", EN_CSV)

    response = signed_in.post(reverse("importing:mapping", kwargs={"pk": job.pk}), {
        "load_file": "1", "mapping_file": SimpleUploadedFile("broken.json", content)})

    assert response.status_code == 400
    assert message in response.content.decode()
    job.refresh_from_db()
    assert job.mapping == {} and job.status == ImportStatus.PENDING


def test_a_mapping_file_naming_columns_the_file_lacks_says_which(signed_in, organization):
    job = _upload_and_read(signed_in, "en.csv", EN_CSV)

    response = signed_in.post(reverse("importing:mapping", kwargs={"pk": job.pk}), {
        "load_file": "1", "mapping_file": SimpleUploadedFile(
            "ibm.json", (MAPPINGS / "ibm_watson_invoices.json").read_bytes())})

    page = response.content.decode()
    assert 'data-testid="form-errors"' in page and "invoiceNumber" in page
    job.refresh_from_db()
    assert job.mapping == {}
