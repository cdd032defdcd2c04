"""Reads of the web import: the history, one job, its live progress, an earlier import of the
same file."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import QuerySet

from scoring.console.models import ImportJob

# A running job that has reported nothing for this long is taken for dead (its worker killed):
# staff may start it again. The import reports at least every thousand rows.
STALE_AFTER_SECONDS = 120

RUNNING = (
    ImportJob.Status.VALIDATING,
    ImportJob.Status.QUEUED,
    ImportJob.Status.IMPORTING,
    ImportJob.Status.RECOMPUTING,
)


def progress_cache_key(job_id: int) -> str:
    return f"scoring:import-job:{job_id}:progress"


def import_job_list() -> QuerySet[ImportJob]:
    """The import history, newest first, with who uploaded each file."""
    return ImportJob.objects.select_related("created_by").order_by("-created_at", "-pk")


def import_job_get(*, job_id: int) -> ImportJob | None:
    return ImportJob.objects.select_related("created_by", "confirmed_by").filter(pk=job_id).first()


def import_job_earlier(*, job: ImportJob) -> ImportJob | None:
    """The latest completed import of the same file (same kind, same SHA-256), if any."""
    return (
        ImportJob.objects.select_related("created_by")
        .filter(sha256=job.sha256, kind=job.kind, status=ImportJob.Status.DONE)
        .exclude(pk=job.pk)
        .order_by("-finished_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class ImportProgress:
    status: str
    rows_expected: int
    rows_validated: int
    rows_written: int
    organizations_total: int
    organizations_recomputed: int
    stale: bool

    @property
    def finished(self) -> bool:
        return self.status in (
            ImportJob.Status.DONE,
            ImportJob.Status.INVALID,
            ImportJob.Status.VALID,
            ImportJob.Status.FAILED,
        )


def import_job_progress(*, job: ImportJob) -> ImportProgress:
    """The row's progress, with the live counts of the attempt running now (from the cache:
    inside the import's transaction nothing it writes to the row is visible)."""
    validated, written, last = job.rows_validated, job.rows_written, 0.0
    if job.progress_at is not None:
        last = job.progress_at.timestamp()
    live = cache.get(progress_cache_key(job.pk))
    if live and live.get("attempt") == job.attempt and job.status in RUNNING:
        validated = max(validated, live.get("rows_validated", 0))
        written = max(written, live.get("rows_written", 0))
        last = max(last, live.get("at", 0.0))
    stale = job.status in RUNNING and time.time() - last > STALE_AFTER_SECONDS
    return ImportProgress(
        status=job.status,
        rows_expected=max(0, job.lines - 1),
        rows_validated=validated,
        rows_written=written,
        organizations_total=job.organizations_total,
        organizations_recomputed=job.organizations_recomputed,
        stale=stale,
    )


def import_job_restartable(*, job: ImportJob) -> bool:
    """A failed job, or a running one whose worker stopped reporting, may be started again."""
    if job.status == ImportJob.Status.FAILED:
        return True
    return import_job_progress(job=job).stale
