"""Writes of the importer: the all-or-nothing import run, import jobs and saved mappings."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from receivables.models import FxRate, ImportJob, ImportKind, ImportMapping, ImportStatus
from tenancy.errors import DomainError, ErrorCode, RowsInvalid
from tenancy.models import Organization, Role
from tenancy.services import Actor, audit_record, role_require

from .dispatch import task_enqueue
from .errors import ImportInvalidError, RowError, import_field
from .importers import IMPORTERS, Importer
from .mapping import Mapping, mapping_check, mapping_from_dict
from .parsing import ParsedRow, rows_parse
from .progress import ProgressReporter, ReadReporter, progress_get, progress_set
from .reader import Table, table_read, upload_check

logger = logging.getLogger(__name__)

JOB_ROW = 0  # errors about the job as a whole (permissions, an unreadable stored file)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    customers_created: int = 0  # invoices only: missing customers created from customer_name
    warnings: list[str] = dataclasses.field(default_factory=list)  # imported, but worth knowing (a currency with no rate)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def import_validate(*, organization: Organization, actor: Actor, kind: str, table: Table,
                    mapping: Mapping, progress=None) -> tuple[Importer, list[ParsedRow]]:
    """Parse and check the whole table; raise ImportInvalidError listing every problem."""
    if mapping.kind != kind:
        raise DomainError(_("This mapping is for %(theirs)s, not %(ours)s.") % {"theirs": mapping.kind, "ours": kind})
    errors = mapping_check(mapping, table.header)
    if errors:
        raise ImportInvalidError(errors)
    rows = rows_parse(table, mapping, progress=progress)
    importer = IMPORTERS[kind](organization=organization, actor=actor, mapping=mapping)
    errors = [error for row in rows for error in row.errors]
    errors += importer.check([row for row in rows if row.ok])
    if not rows:
        errors.append(RowError(2, "", _("The file has a header but no rows.")))
    if errors:
        raise ImportInvalidError(errors)
    return importer, rows


@transaction.atomic
def import_run(*, organization: Organization, actor: Actor, kind: str, table: Table, mapping: Mapping,
               job: ImportJob | None = None) -> ImportResult:
    """Import a whole table: validate every row first, then upsert all of them or none."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    checking = ProgressReporter(job.pk if job else None, table.row_count, phase="validating")
    importer, rows = import_validate(organization=organization, actor=actor, kind=kind, table=table, mapping=mapping,
                                     progress=checking.step)
    progress = ProgressReporter(job.pk if job else None, len(rows), phase="writing")
    try:
        outcomes = importer.write_many(rows, progress.step)
    except RowsInvalid as exc:
        raise ImportInvalidError([
            RowError(number, importer.mapping.column_of(import_field(error)),
                     error.message)
            for number, errors in sorted(exc.rows.items()) for error in errors]) from exc
    result = ImportResult()
    for outcome in outcomes.values():
        setattr(result, outcome.value, getattr(result, outcome.value) + 1)
    result.customers_created = getattr(importer, "customers_created", 0)
    result.warnings = _missing_rate_warnings(organization, {row.values.get("currency") for row in rows}
                                             | {mapping.default_currency})
    return result


def _missing_rate_warnings(organization: Organization, currencies: set[str | None]) -> list[str]:
    """One warning per imported foreign currency without any stored rate: reports would leave it out."""
    foreign = {c for c in currencies if c and c != organization.base_currency}
    known = set(FxRate.objects.filter(organization=organization, currency__in=foreign)
                .values_list("currency", flat=True).distinct()) if foreign else set()
    return [_("No %(currency)s to %(base)s exchange rate is stored yet: reports leave the %(currency)s amounts "
              "out until one is added under FX rates.") % {"currency": c, "base": organization.base_currency}
            for c in sorted(foreign - known)]


# --- saved mappings ------------------------------------------------------------------------

@transaction.atomic
def import_mapping_save(*, organization: Organization, actor: Actor, name: str, mapping: Mapping) -> ImportMapping:
    """Save a mapping under a name (unique per organization), replacing one of the same name."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    name = name.strip()
    if not name:
        raise DomainError(_("A saved mapping needs a name."), field="name")
    data = mapping.as_dict()
    saved, created = ImportMapping.objects.select_for_update(no_key=True).get_or_create(
        organization=organization, name=name, defaults={"kind": mapping.kind})
    before = None if created else {"kind": saved.kind, "columns": saved.columns}
    saved.kind = mapping.kind
    for field in ("columns", "date_format", "decimal_separator", "default_currency", "defaults"):
        setattr(saved, field, data[field])
    saved.save()
    audit_record(organization=organization, actor=actor, action="import_mapping.saved", obj=saved,
                 before=before, after={"name": name, "kind": mapping.kind, "columns": data["columns"]})
    return saved


def import_mapping_load(saved: ImportMapping) -> Mapping:
    return mapping_from_dict({"kind": saved.kind, "columns": saved.columns, "date_format": saved.date_format,
                              "decimal_separator": saved.decimal_separator,
                              "default_currency": saved.default_currency, "defaults": saved.defaults})


# --- jobs ----------------------------------------------------------------------------------

@transaction.atomic
def import_job_create(*, organization: Organization, actor: Actor, kind: str, file: BinaryIO,
                      file_name: str) -> ImportJob:
    """Keep an uploaded file and queue its reading; the request checks only what costs nothing
    (type, size, the size a spreadsheet expands to), the background task parses the rows once."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    if kind not in ImportKind.values:
        raise DomainError(_("Choose customers, invoices or payments."), field="kind")
    size = getattr(file, "size", None)
    if size is not None and size > settings.IMPORT_MAX_BYTES:  # refuse before reading it into memory
        raise ImportInvalidError([RowError(1, "", _("The file is larger than %(limit)s MB; split it into smaller "
                                                    "files.") % {"limit": settings.IMPORT_MAX_BYTES // (1024 * 1024)})])
    data = file.read()
    upload_check(data, file_name)
    job = ImportJob(organization=organization, kind=kind, file_name=file_name[:255], status=ImportStatus.READING,
                    created_by=actor)
    job.file.save(file_name, ContentFile(data), save=False)
    job.save()
    progress_set(job.pk, processed=0, total=0, phase="reading", percent=0)
    from .tasks import import_read_task

    task_enqueue(import_read_task, job.pk)
    return job


def import_job_read(*, job_id: int) -> ImportJob:
    """Read a job's stored file once and keep its rows for the next steps (a job that is not being
    read is left alone, so a second delivery of the task changes nothing)."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportStatus.READING:
        return job
    try:
        with job.file.open("rb") as stored:
            table = table_read(stored, job.file_name, progress=ReadReporter(job.pk))
    except ImportInvalidError as exc:
        return _job_read_failed(job, exc.errors)
    except Exception:
        logger.exception("reading import job %s failed", job_id)
        return _job_read_failed(job, [RowError(JOB_ROW, "", _("The file could not be read; nothing was imported."))])
    _table_keep(job, table)
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.READING).update(
        status=ImportStatus.PENDING, total_rows=table.row_count)
    job.refresh_from_db()
    return job


def _job_read_failed(job: ImportJob, errors: list[RowError]) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk, status=ImportStatus.READING).update(
        status=ImportStatus.FAILED, errors=[error.as_dict() for error in errors], finished_at=timezone.now())
    job.refresh_from_db()
    return job


def import_job_read_resume(*, organization: Organization, job: ImportJob) -> None:
    """A job being read whose progress is gone was lost with the process reading it (the embedded
    default keeps progress in the server's memory; a restart forgets both): queue its read again."""
    if job.organization_id != organization.pk or job.status != ImportStatus.READING or progress_get(job.pk):
        return
    progress_set(job.pk, processed=0, total=0, phase="reading", percent=0)
    from .tasks import import_read_task

    logger.warning("import job %s: its read was lost, reading again", job.pk)
    task_enqueue(import_read_task, job.pk)


def import_job_reread(*, organization: Organization, job: ImportJob) -> ImportJob:
    """The kept rows expired (or the cache was emptied): read the file again in the background."""
    if ImportJob.objects.filter(pk=job.pk, organization=organization, status=ImportStatus.PENDING).update(
            status=ImportStatus.READING):
        progress_set(job.pk, processed=0, total=0, phase="reading", percent=0)
        from .tasks import import_read_task

        task_enqueue(import_read_task, job.pk)
    job.refresh_from_db()
    return job


TABLE_CACHE_SECONDS = 6 * 3600


def _table_cache_key(job: ImportJob) -> str:
    return f"import:table:{job.pk}:{job.file.name}"


HEAD_ROWS = 200  # kept apart: what the mapping (matching samples) and preview pages need


def import_job_table_kept(job: ImportJob, *, head: bool = False) -> Table | None:
    """The job's parsed rows as the background read kept them, or None once they have expired.
    `head`: the header and first HEAD_ROWS rows only (row_count still the whole file's), which is
    all a page shows, so a 50,000-row file costs the page a few kilobytes, not megabytes."""
    from django.core.cache import cache

    key = _table_cache_key(job)
    kept = cache.get(key + ":head") if head else None
    if kept is None:
        kept = cache.get(key)
    if kept is None:
        return None
    return Table(header=kept["header"], rows=[(number, cells) for number, cells in kept["rows"]], excel=kept["excel"],
                 total=kept.get("total"))


def import_job_table(job: ImportJob) -> Table:
    """The job's parsed rows: read from the file once, then kept (cache) for the mapping, preview
    and confirm steps, so a big file is not parsed again at every step. Tasks only: a page asks
    import_job_table_kept and queues a new read when the rows are gone."""
    kept = import_job_table_kept(job)
    if kept is not None:
        return kept
    with job.file.open("rb") as stored:
        table = table_read(stored, job.file_name)
    _table_keep(job, table)
    return table


def _table_keep(job: ImportJob, table: Table) -> None:
    from django.core.cache import cache

    key = _table_cache_key(job)
    cache.set(key, {"header": table.header, "rows": table.rows, "excel": table.excel}, timeout=TABLE_CACHE_SECONDS)
    cache.set(key + ":head", {"header": table.header, "rows": table.rows[:HEAD_ROWS], "excel": table.excel,
                              "total": table.row_count}, timeout=TABLE_CACHE_SECONDS)


@transaction.atomic
def import_job_configure(*, organization: Organization, actor: Actor, job: ImportJob, mapping: Mapping,
                         save_as: str = "") -> ImportJob:
    """Attach the chosen mapping to a pending job, and save it for next time under `save_as`."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    _job_pending(organization, job)
    if save_as.strip():
        import_mapping_save(organization=organization, actor=actor, name=save_as, mapping=mapping)
    job.mapping = mapping.as_dict()
    job.save(update_fields=["mapping"])
    return job


def _job_pending(organization: Organization, job: ImportJob) -> None:
    if job.organization_id != organization.pk:
        raise DomainError(_("Not found."), code=ErrorCode.NOT_FOUND)
    if job.status != ImportStatus.PENDING:
        raise DomainError(_("This import has already run."), code=ErrorCode.INVALID)


def import_job_start(*, organization: Organization, actor: Actor, job: ImportJob) -> ImportJob:
    """Run a configured job now, or queue it when it has more than IMPORT_BACKGROUND_ROWS rows."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    _job_pending(organization, job)
    if not job.mapping:
        raise DomainError(_("Choose the column mapping first."), field="mapping")
    if job.total_rows > settings.IMPORT_BACKGROUND_ROWS:
        from .tasks import import_run_task

        # on_commit: a caller's rolled-back transaction queues nothing.
        progress_set(job.pk, processed=0, total=job.total_rows, phase="validating")
        task_enqueue(import_run_task, job.pk)
        return job
    return import_job_run(job_id=job.pk)


def _job_claim(job_id: int) -> bool:
    """Move a job from pending to running; False when it is not pending (already run or running)."""
    return ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(status=ImportStatus.RUNNING) == 1


def _job_finish(job: ImportJob, *, status: str, errors: list[RowError] = (), result: ImportResult | None = None):
    job.status = status
    job.errors = [error.as_dict() for error in errors]
    if result is not None:
        job.created_count, job.updated_count, job.unchanged_count = result.created, result.updated, result.unchanged
        job.processed_rows = result.total
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "errors", "created_count", "updated_count", "unchanged_count",
                            "processed_rows", "finished_at"])


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a pending job once (safe to call twice: a job that is not pending is left alone)."""
    if not _job_claim(job_id):
        return ImportJob.objects.get(pk=job_id)
    job = ImportJob.objects.select_related("organization", "created_by").get(pk=job_id)
    organization = job.organization
    try:
        table = import_job_table(job)
        mapping = mapping_from_dict(job.mapping, kind=job.kind)
        result = import_run(organization=organization, actor=job.created_by, kind=job.kind, table=table,
                            mapping=mapping, job=job)
    except ImportInvalidError as exc:
        _job_finish(job, status=ImportStatus.FAILED, errors=exc.errors)
    except DomainError as exc:
        _job_finish(job, status=ImportStatus.FAILED, errors=[RowError(JOB_ROW, "", exc.message)])
    except Exception:
        logger.exception("import job %s failed", job_id)
        _job_finish(job, status=ImportStatus.FAILED,
                    errors=[RowError(JOB_ROW, "", _("The import failed unexpectedly; nothing was imported."))])
    else:
        # A succeeded job's "errors" are warnings (row 0): it imported everything.
        _job_finish(job, status=ImportStatus.SUCCEEDED, result=result,
                    errors=[RowError(JOB_ROW, "", warning) for warning in result.warnings])
        audit_record(organization=organization, actor=job.created_by, action="import.completed", obj=job,
                     after={"kind": job.kind, "file": job.file_name, "created": result.created,
                            "updated": result.updated, "unchanged": result.unchanged})
    return job
