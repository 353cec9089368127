"""Import progress, kept in the cache (Redis in production) rather than in the ImportJob row.

The import writes inside one long transaction, and an UPDATE of `processed_rows` made in it
would stay invisible to the status endpoint until the commit, i.e. the bar would jump from
0 to 100%. A second database connection would be visible, but on the embedded SQLite default
it would wait for the import's write lock. The cache is outside every transaction, shared by
the web and worker processes (Redis) or by the threads of the one process (local memory, where
tasks run in-process), and costs one SET per step. The job row gets the final figure at the end."""

from __future__ import annotations

from django.core.cache import cache

TIMEOUT = 24 * 60 * 60
STEPS = 100  # at most ~100 cache writes per import, whatever its size


def _key(job_id: int) -> str:
    return f"inflow:import-progress:{job_id}"


def progress_set(job_id: int, *, processed: int, total: int, phase: str, percent: int | None = None) -> None:
    value = {"processed": processed, "total": total, "phase": phase}
    if percent is not None:  # a phase measured in something else than rows (reading: bytes of the file)
        value["percent"] = percent
    cache.set(_key(job_id), value, TIMEOUT)


def progress_get(job_id: int) -> dict | None:
    return cache.get(_key(job_id))


class ProgressReporter:
    """Report every ~1% of the rows (and the last one) for one job; a no-op without a job."""

    def __init__(self, job_id: int | None, total: int, phase: str):
        self.job_id, self.total, self.phase = job_id, total, phase
        self.every = max(1, total // STEPS)
        if job_id is not None:
            progress_set(job_id, processed=0, total=total, phase=phase)

    def step(self, processed: int) -> None:
        if self.job_id is not None and (processed % self.every == 0 or processed == self.total):
            progress_set(self.job_id, processed=processed, total=self.total, phase=self.phase)


class ReadReporter:
    """Reading a file: report each percent of it read (as a fraction from the reader)."""

    def __init__(self, job_id: int):
        self.job_id, self.last = job_id, -1
        progress_set(job_id, processed=0, total=0, phase="reading", percent=0)

    def __call__(self, fraction: float) -> None:
        percent = min(99, int(fraction * 100))  # 100 once the rows are kept and the job is pending
        if percent != self.last:
            self.last = percent
            progress_set(self.job_id, processed=0, total=0, phase="reading", percent=percent)
