"""Writes of the web import: upload (stored, hashed, validated), confirm, run, start again.

The file is validated through the same path as `manage.py import_data`
(`scoring.imports.tracked`), first on its own — the report lists every bad row and nothing is
written — then, on confirmation, again as part of the import itself, all or nothing in one
transaction (the data may have changed meanwhile). The import and the recompute of the
organizations it touched run in Celery; the job row is the state a page reload reads.

A worker killed in the middle leaves nothing half-written: the rows and the job's "imported"
mark commit together or not at all. Started again, a job whose rows are not in imports again
from the start; one whose rows are in only recomputes (recomputing is idempotent).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.csvsafe import SafeWriter
from portal.exceptions import ApplicationError
from scoring.console.import_selectors import (
    import_job_restartable,
    progress_cache_key,
)
from scoring.console.models import ImportJob
from scoring.imports import KINDS, RowError
from scoring.imports.tracked import import_csv_tracked, validate_csv
from scoring.services import scores_recompute, scores_recompute_on_commit_withdraw

# The job page shows this many bad values; the full report is a CSV beside the upload.
ERRORS_SHOWN = 1000
HASH_CHUNK_BYTES = 1024 * 1024
PROGRESS_TTL_SECONDS = 24 * 60 * 60


class JobProgress:
    """Counts of one attempt: on the row when outside a transaction, always in the cache."""

    def __init__(self, job: ImportJob) -> None:
        self.job_id = job.pk
        self.attempt = job.attempt
        self.state: dict[str, Any] = {
            "attempt": job.attempt,
            "rows_validated": 0,
            "rows_written": 0,
        }

    def validated(self, rows: int) -> None:
        self._report(rows_validated=rows)

    def written(self, rows: int) -> None:
        self._report(rows_written=rows)

    def _report(self, **counts: int) -> None:
        self.state.update(counts, at=time.time())
        cache.set(progress_cache_key(self.job_id), self.state, PROGRESS_TTL_SECONDS)
        if not transaction.get_connection().in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id, attempt=self.attempt).update(
                progress_at=timezone.now(), **counts
            )


def _file_facts(upload: File) -> tuple[str, int, int]:
    """SHA-256, size and line count, reading the upload a chunk at a time."""
    digest = hashlib.sha256()
    size = lines = 0
    last = b""
    for chunk in upload.chunks(HASH_CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
        lines += chunk.count(b"\n")
        last = chunk[-1:] or last
    if last and last != b"\n":
        lines += 1  # a last line without a line end
    return digest.hexdigest(), size, lines


@transaction.atomic
def import_job_create(*, kind: str, upload: File, actor: Any) -> ImportJob:
    """Store an uploaded file of one kind under MEDIA_ROOT and queue its validation."""
    if kind not in KINDS:
        raise ApplicationError(_("Choose what the file holds."))
    sha256, size, lines = _file_facts(upload)
    if size == 0:
        raise ApplicationError(_("The file is empty."))
    name = PurePath(upload.name or "upload.csv").name[:255]
    job = ImportJob(
        kind=kind, file_name=name, file_size=size, sha256=sha256, lines=lines, created_by=actor
    )
    # Streamed to disk by the storage, a chunk at a time; the stored name is ours.
    job.file.save(f"{uuid.uuid4().hex}.csv", upload, save=False)
    job.save()
    transaction.on_commit(lambda: _queue_validation(job.pk))
    return job


def _queue_validation(job_id: int) -> None:
    from scoring.console.tasks import import_job_validate_task

    import_job_validate_task.delay(job_id)


def _queue_run(job_id: int, attempt: int) -> None:
    from scoring.console.tasks import import_job_run_task

    import_job_run_task.delay(job_id, attempt)


def _save_report(job: ImportJob, errors: list[RowError]) -> dict[str, Any]:
    """The report's fields: the first bad values on the row, every one in a CSV file."""
    fields: dict[str, Any] = {
        "error_count": len(errors),
        "errors": [asdict(error) for error in errors[:ERRORS_SHOWN]],
    }
    if len(errors) > ERRORS_SHOWN:
        import io

        buffer = io.StringIO()
        writer = SafeWriter(buffer)
        writer.writerow(["line", "column", "value", "reason"])
        writer.writerows((e.line, e.column, e.value, e.reason) for e in errors)
        job.report.save(
            f"{uuid.uuid4().hex}.csv", ContentFile(buffer.getvalue().encode()), save=False
        )
        fields["report"] = job.report.name
    return fields


def import_job_validate(*, job_id: int) -> ImportJob | None:
    """Validate the stored file (writing nothing): valid, or invalid with its report."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.VALIDATING).first()
    if job is None:
        return None  # validated already (a redelivered task)
    progress = JobProgress(job)
    with job.file.open("rb") as stream:
        result = validate_csv(job.kind, stream, progress=progress)
    status = ImportJob.Status.INVALID if result.errors else ImportJob.Status.VALID
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        progress_at=timezone.now(),
        rows_validated=progress.state["rows_validated"],
        **_save_report(job, result.errors),
    )
    job.refresh_from_db()
    return job


@transaction.atomic
def import_job_confirm(*, job_id: int, actor: Any) -> ImportJob:
    """Staff confirm a validated file: the import (and the recomputes) are queued."""
    job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.status != ImportJob.Status.VALID:
        raise ApplicationError(_("Only a validated file waiting for confirmation can be imported."))
    job.status = ImportJob.Status.QUEUED
    job.attempt += 1
    job.confirmed_by = actor
    job.progress_at = timezone.now()
    job.save(update_fields=["status", "attempt", "confirmed_by", "progress_at"])
    attempt = job.attempt
    transaction.on_commit(lambda: _queue_run(job.pk, attempt))
    return job


@transaction.atomic
def import_job_restart(*, job_id: int, actor: Any) -> ImportJob:
    """Start a failed or stalled job again (a new attempt; an older one, if it ever comes
    back, finds itself superseded and stops)."""
    job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None or not import_job_restartable(job=job):
        raise ApplicationError(_("This import is not stalled or failed: it cannot be restarted."))
    job.failure = ""
    job.progress_at = timezone.now()
    if job.attempt == 0:
        # Never confirmed (confirming counts the first attempt): it stopped while validating.
        # Validate again; nothing is ever written then.
        job.status = ImportJob.Status.VALIDATING
        job.save(update_fields=["status", "failure", "progress_at"])
        transaction.on_commit(lambda: _queue_validation(job.pk))
        return job
    job.status = (
        ImportJob.Status.RECOMPUTING if job.imported_at is not None else ImportJob.Status.QUEUED
    )
    job.attempt += 1
    job.save(update_fields=["status", "attempt", "failure", "progress_at"])
    attempt = job.attempt
    transaction.on_commit(lambda: _queue_run(job.pk, attempt))
    return job


def import_job_run(*, job_id: int, attempt: int) -> ImportJob | None:
    """Run one attempt of a confirmed job: import (all or nothing), then recompute."""
    claimed = ImportJob.objects.filter(
        pk=job_id,
        attempt=attempt,
        status__in=[ImportJob.Status.QUEUED, ImportJob.Status.IMPORTING],
        imported_at__isnull=True,
    ).update(
        status=ImportJob.Status.IMPORTING,
        started_at=timezone.now(),
        progress_at=timezone.now(),
        rows_validated=0,
        rows_written=0,
    )
    job = ImportJob.objects.filter(pk=job_id, attempt=attempt).first()
    if job is None:
        return None  # superseded by a newer attempt
    if claimed:
        _import(job)
        job.refresh_from_db()
    if job.status == ImportJob.Status.RECOMPUTING:
        _recompute(job)
        job.refresh_from_db()
    return job


def _import(job: ImportJob) -> None:
    progress = JobProgress(job)
    with transaction.atomic():
        with job.file.open("rb") as stream:
            result = import_csv_tracked(job.kind, stream, actor=job.confirmed_by, progress=progress)
        now = timezone.now()
        if not result.ok:
            # The data changed since the preview: this file no longer loads; nothing is written.
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportJob.Status.INVALID,
                finished_at=now,
                progress_at=now,
                rows_validated=progress.state["rows_validated"],
                **_save_report(job, result.errors),
            )
            return
        # The recompute is this job's own (with its progress), not the import's usual queue.
        organization_ids = sorted(
            scores_recompute_on_commit_withdraw() | set(result.organization_ids)
        )
        if not (result.created or result.updated):
            organization_ids = []  # unchanged data leaves scores as they are
        # In the import's transaction: the rows and this mark commit together or not at all.
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.RECOMPUTING,
            imported_at=now,
            progress_at=now,
            rows_validated=progress.state["rows_validated"],
            rows_written=result.rows,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            organization_ids=organization_ids,
            organizations_total=len(organization_ids),
            organizations_recomputed=0,
        )


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _recompute(job: ImportJob) -> None:
    """Recompute the organizations the import touched, a chunk at a time, counting them."""
    today = timezone.localdate()
    ids = list(job.organization_ids)
    done = job.organizations_recomputed
    for chunk in _chunks(ids[done:], settings.SCORING_CHUNK_SIZE):
        scores_recompute(organization_ids=chunk, as_of=today)
        ImportJob.objects.filter(pk=job.pk, attempt=job.attempt).update(
            organizations_recomputed=F("organizations_recomputed") + len(chunk),
            progress_at=timezone.now(),
        )
    ImportJob.objects.filter(pk=job.pk, attempt=job.attempt).update(
        status=ImportJob.Status.DONE, finished_at=timezone.now(), progress_at=timezone.now()
    )


def import_job_fail(*, job_id: int, attempt: int, error: str) -> None:
    """An attempt gave up (its retries exhausted): the job is failed and may be started again."""
    ImportJob.objects.filter(
        pk=job_id,
        attempt=attempt,
        status__in=[
            ImportJob.Status.VALIDATING,
            ImportJob.Status.QUEUED,
            ImportJob.Status.IMPORTING,
            ImportJob.Status.RECOMPUTING,
        ],
    ).update(status=ImportJob.Status.FAILED, failure=error[:2000], finished_at=timezone.now())
