"""A finance user imports invoices alone, in the browser (issue 14 item 7): uploads an XLSX with
Chinese headers, watches the progress bar while the file is read in the background (no worker: the
embedded default's in-process thread), finds the columns matched, previews, imports with a
progress bar again, and sees the invoices. Desktop (1280 px) and phone width (390 px)."""

import datetime as dt
import io
import os
import tempfile
import time
from pathlib import Path

import openpyxl
import pytest

from receivables.models import ImportJob, ImportStatus, Invoice
from tenancy.models import UserProfile
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path(os.environ.get("INFLOW_SCREENSHOTS") or Path(tempfile.gettempdir()) / "inflow-shots")  # never the repo
ROWS = 6000  # more than IMPORT_BACKGROUND_ROWS: the import itself runs in the background too


def _workbook(rows: int) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("应收账款")
    sheet.append(["客户名称", "发票号", "开票日期", "到期日", "金额", "币种", "备注"])
    for i in range(rows):
        issued = dt.date(2026, 1, 1) + dt.timedelta(days=i % 60)
        sheet.append([f"客户{i % 150:03d}有限公司", f"FP-{i:06d}", issued, issued + dt.timedelta(days=30),
                      f"{1000 + (i * 37) % 90000}.{i % 100:02d}", "CNY", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _watch_bar(page, done, shot: Path | None = None, timeout: float = 240) -> list[int]:
    """The progress bar's values, read every 100 ms until `done()`; a screenshot once it has moved."""
    def finished() -> bool:
        try:
            return done()
        except Exception:  # asked while the page was navigating
            return False

    values, deadline = [], time.monotonic() + timeout
    while not finished():
        assert time.monotonic() < deadline, values
        try:
            value = page.evaluate("(document.getElementById('import-progress') || {}).value")
        except Exception:  # the page navigated away (to the mapping, or reloaded with the result)
            value = None
        if value is not None:
            values.append(int(value))
            if shot is not None and 0 < value < 100:
                page.screenshot(path=str(shot), full_page=True)
                shot = None
        page.wait_for_timeout(100)
    return values


def test_a_finance_user_imports_invoices_alone(page, organization, collector, settings, tmp_path):
    settings.IMPORT_TASKS_IN_THREAD = True  # as on `make run`: no worker, tasks beside the server
    SHOTS.mkdir(parents=True, exist_ok=True)
    upload = tmp_path / "应收账款.xlsx"
    upload.write_bytes(_workbook(ROWS))
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, collector.username, PASSWORD)

    # upload: the request comes back at once, with a bar while the file is read
    page.goto("/import/")
    page.screenshot(path=str(SHOTS / "import_start_1280.png"), full_page=True)
    page.select_option("#id_kind", "invoices")
    page.set_input_files("#id_file", str(upload))
    started = time.monotonic()
    page.click("[data-testid=import-upload-submit]")
    page.wait_for_selector("#import-progress-card, [data-testid=mapping-form]")
    answered = time.monotonic() - started
    reading = _watch_bar(page, lambda: "/mapping/" in page.url, SHOTS / "import_reading_1280.png")
    page.wait_for_selector("[data-testid=mapping-form]")
    job = ImportJob.objects.get(organization=organization)
    assert job.total_rows == ROWS and answered < 10, answered

    # mapping: the columns were matched by their Chinese names, and say so
    assert "9 fields were matched to columns by their names." in page.inner_text("[data-testid=auto-matched]")
    for field, column in (("customer_name", "客户名称"), ("number", "发票号"), ("issue_date", "开票日期"),
                          ("due_date", "到期日"), ("total_amount", "金额"), ("currency", "币种"),
                          ("external_id", "发票号"), ("description", "备注")):
        assert page.input_value(f"#id_col_{field}") == column, field
    assert "Auto · 100%" in page.inner_text("[data-testid=match-due_date]")
    assert "Same column as another field" in page.inner_text("[data-testid=match-external_id]")
    page.screenshot(path=str(SHOTS / "import_mapping_1280.png"), full_page=True)
    page.fill("#id_save_as", "金蝶应收导出")
    page.click("[data-testid=mapping-preview]")

    # preview, then the import itself in the background, with its bar
    page.wait_for_selector("[data-testid=import-confirm]")
    assert "FP-000000" in page.inner_text("table.preview")
    page.screenshot(path=str(SHOTS / "import_preview_1280.png"), full_page=True)
    page.click("[data-testid=import-confirm]")
    writing = _watch_bar(page, lambda: page.query_selector("#created") is not None,
                         SHOTS / "import_running_1280.png", timeout=400)
    assert page.inner_text("#created") == f"{ROWS:,}"
    page.screenshot(path=str(SHOTS / "import_done_1280.png"), full_page=True)
    job.refresh_from_db()
    assert job.status == ImportStatus.SUCCEEDED
    assert Invoice.objects.filter(organization=organization).count() == ROWS
    # the bars moved: each was seen below 100 before the page went on
    assert reading and min(reading) < 100, reading
    assert writing and min(writing) < 100, writing

    page.click("[data-testid=import-see-invoices]")
    page.wait_for_url("**/invoices/**")
    assert "FP-00" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "import_invoices_1280.png"))

    # phone width: the same pages, without sideways scrolling
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/import/")
    assert _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "import_start_390.png"), full_page=True)
    small = tmp_path / "small.xlsx"
    small.write_bytes(_workbook(20))
    page.select_option("#id_kind", "invoices")
    page.set_input_files("#id_file", str(small))
    page.click("[data-testid=import-upload-submit]")
    page.wait_for_selector("[data-testid=mapping-form]")
    assert _no_sideways_scroll(page)
    assert page.input_value("#id_col_due_date") == "到期日"
    page.screenshot(path=str(SHOTS / "import_mapping_390.png"), full_page=True)
    page.goto(f"/import/{job.pk}/")
    assert _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "import_done_390.png"), full_page=True)

    # in Simplified Chinese: the same mapping page, its matches and labels translated
    UserProfile.objects.update_or_create(user=collector, defaults={"language": "zh-hans"})
    second = ImportJob.objects.filter(organization=organization).latest("pk")
    page.goto(f"/import/{second.pk}/mapping/")
    assert "自动 · 100%" in page.inner_text("[data-testid=match-due_date]")
    assert "已按列名自动匹配 9 个字段" in page.inner_text("[data-testid=auto-matched]")
    assert _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / "import_mapping_390_zh.png"), full_page=True)
