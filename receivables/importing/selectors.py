"""Reads of the importer: jobs, saved mappings, the preview and a running job's progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from receivables.models import ImportJob, ImportMapping, ImportStatus
from tenancy.models import Organization

from .errors import ImportInvalidError, RowError
from .fields import FieldSpec, fields_for
from .importers import IMPORTERS
from .mapping import Mapping, mapping_check
from .parsing import rows_parse
from .progress import progress_get
from .reader import Table

PREVIEW_ROWS = 10


def import_job_list(organization: Organization) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(organization=organization).select_related("created_by")


def import_mapping_list(organization: Organization, *, kind: str | None = None) -> QuerySet[ImportMapping]:
    qs = ImportMapping.objects.filter(organization=organization)
    return qs.filter(kind=kind) if kind else qs


@dataclass
class PreviewCell:
    raw: str
    value: Any = None
    error: str = ""


@dataclass
class PreviewRow:
    number: int
    cells: list[PreviewCell]
    errors: list[RowError] = field(default_factory=list)  # problems not tied to a shown field


@dataclass
class Preview:
    fields: list[FieldSpec]
    rows: list[PreviewRow]
    mapping_errors: list[RowError]
    total_rows: int

    @property
    def has_errors(self) -> bool:
        return bool(self.mapping_errors) or any(
            row.errors or any(cell.error for cell in row.cells) for row in self.rows)


def import_preview(organization: Organization, *, table: Table, mapping: Mapping, limit: int = PREVIEW_ROWS) -> Preview:
    """The first rows as the import WILL read them: parsed values, and each row's errors."""
    specs = [spec for name, spec in fields_for(mapping.kind).items() if name in mapping.columns or name in
             mapping.defaults or (name == "currency" and mapping.default_currency)]
    mapping_errors = mapping_check(mapping, table.header)
    if mapping_errors:
        return Preview(specs, [], mapping_errors, table.row_count)
    head = Table(header=table.header, rows=table.rows[:limit], excel=table.excel)
    parsed = rows_parse(head, mapping)
    shown = {row.number: dict(row.values) for row in parsed}  # check() may derive values (net from total)
    importer = IMPORTERS[mapping.kind](organization=organization, actor=None, mapping=mapping)
    try:
        checked = importer.check([row for row in parsed if row.ok])
    except ImportInvalidError as exc:
        checked = exc.errors
    by_row: dict[int, list[RowError]] = {}
    for error in [e for row in parsed for e in row.errors] + checked:
        by_row.setdefault(error.row, []).append(error)
    rows = []
    for row in parsed:
        errors = list(by_row.get(row.number, []))
        cells = []
        for spec in specs:
            column = mapping.column_of(spec.name)
            mine = [e for e in errors if column and e.column == column]
            cells.append(PreviewCell(raw=row.cells.get(spec.name, ""), value=shown[row.number].get(spec.name),
                                     error=" ".join(e.message for e in mine)))
            errors = [e for e in errors if e not in mine]
        rows.append(PreviewRow(row.number, cells, errors))
    return Preview(specs, rows, [], table.row_count)


def import_job_progress(job: ImportJob) -> dict[str, Any]:
    """What the progress bar shows: the committed status, and the live row count while it runs."""
    processed, total, phase, live = job.processed_rows, job.total_rows, "", {}
    if job.status == ImportStatus.READING:
        live = progress_get(job.pk) or {}
        processed, total, phase = 0, 0, "reading"
    elif job.status == ImportStatus.RUNNING:
        live = progress_get(job.pk) or {}
        processed, total, phase = live.get("processed", 0), live.get("total", total), live.get("phase", "validating")
    finished = job.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)
    if finished:
        percent = 100
    elif "percent" in live:
        percent = live["percent"]
    else:
        percent = int(processed * 100 / total) if total else 0
    return {"status": job.status, "phase": phase, "processed_rows": processed, "total_rows": total,
            "percent": percent, "finished": finished}
