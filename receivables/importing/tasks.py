"""Celery task of the importer: thin, takes an id, safe to run twice."""

from celery import shared_task

from .services import import_job_run


@shared_task(acks_late=True)
def import_run_task(job_id: int) -> str:
    """Run a pending import job in the background (a job that is not pending is not run again)."""
    return import_job_run(job_id=job_id).status
