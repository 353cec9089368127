"""Celery tasks of the importer: thin, take an id, safe to run twice."""

from celery import shared_task
from django.utils import translation

from .services import import_job_read, import_job_run


@shared_task(acks_late=True)
def import_read_task(job_id: int, language: str | None = None) -> str:
    """Read an uploaded file once and keep its rows (a job that is not being read is left alone)."""
    with translation.override(language):
        return import_job_read(job_id=job_id).status


@shared_task(acks_late=True)
def import_run_task(job_id: int, language: str | None = None) -> str:
    """Run a pending import job in the background (a job that is not pending is not run again)."""
    with translation.override(language):
        return import_job_run(job_id=job_id).status
