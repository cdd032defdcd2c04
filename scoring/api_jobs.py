"""Bulk uploads too large to answer at once (more rows than `API_BULK_ASYNC_ROWS`): the body is
stored, Celery runs it through the same import entry points as the synchronous upload
(`scoring.imports.import_csv_tracked` / `import_records`: validate everything, write all or
nothing), and the caller polls the job for its state, progress and report.

A job belongs to the caller that sent it (and, for an organization's rows, to that
organization): only the same key reads it. While the import's one transaction runs, the rows
it writes — and any count stored on the job row — are invisible to other connections, so the
live progress is kept in the cache; the row holds it whenever no transaction is open.
"""

from __future__ import annotations

import json
import logging
import time
from functools import partial
from typing import Any

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from portal.api.errors import SERVER_ERROR, VALIDATION_ERROR, error_body
from portal.models import Organization
from scoring.imports import import_records
from scoring.imports.result import ImportResult, RowError
from scoring.imports.tracked import import_csv_tracked
from scoring.models import BulkJobFields, OrganizationBulkJob, TelemetryBulkJob
from scoring.webhook_events import import_finished_notify

logger = logging.getLogger(__name__)

ORGANIZATION = "organization"
TELEMETRY = "telemetry"
PROGRESS_TTL_SECONDS = 24 * 3600
# The job's row gets the progress at most this often (each an UPDATE outside the import's
# transaction); the cache gets every report.
PROGRESS_SAVE_SECONDS = 1.0
# A running job whose worker has sent no news (a progress report) for this long is taken as
# lost with its worker — its transaction died with it, nothing of it is in: it shows as failed
# and its sender may restart it.
STALE_AFTER_SECONDS = 300
JSON = "application/json"


def row_error_items(errors: list[RowError]) -> list[dict[str, Any]]:
    """Bad rows as items of the one error shape (`line`, `attr` = column, `value`, `detail`)."""
    return [
        {
            "code": "invalid_row",
            "detail": error.reason,
            "attr": error.column or None,
            "line": error.line,
            "value": error.value,
        }
        for error in errors
    ]


def import_report(result: ImportResult) -> dict[str, Any]:
    return {
        "kind": result.kind,
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "recompute_queued": bool(result.organization_ids and (result.created or result.updated)),
    }


def _jobs(scope: str) -> QuerySet[Any]:
    if scope == ORGANIZATION:
        # A task holds only the id: the organization comes from the row itself.
        return OrganizationBulkJob.objects.unscoped()
    if scope == TELEMETRY:
        return TelemetryBulkJob.objects.all()
    raise ValueError(f"Unknown bulk job scope {scope!r}.")


def progress_cache_key(scope: str, job_id: int) -> str:
    return f"api-bulk-job:{scope}:{job_id}"


def _beat_cache_key(scope: str, job_id: int) -> str:
    """When the job's worker last gave news (a Unix time)."""
    return f"api-bulk-job:{scope}:{job_id}:beat"


def _beat(scope: str, job_id: int) -> None:
    cache.set(_beat_cache_key(scope, job_id), time.time(), PROGRESS_TTL_SECONDS)


def bulk_job_lost(*, scope: str, job: BulkJobFields) -> bool:
    """Running, but no news from its worker for `STALE_AFTER_SECONDS`: the worker is gone."""
    if job.state != BulkJobFields.State.RUNNING:
        return False
    beat = cache.get(_beat_cache_key(scope, job.pk))
    if beat is None:
        if job.started_at is None:
            return False  # not claimed by any worker: nothing to tell
        beat = job.started_at.timestamp()
    return time.time() - float(beat) > STALE_AFTER_SECONDS


def bulk_job_restart(*, scope: str, job: BulkJobFields) -> bool:
    """Queue a lost job again (it runs from the start, all rows or none); False when the job
    is not lost (queued, running with a live worker, or finished)."""
    from scoring.tasks import bulk_job_run_task

    with transaction.atomic():
        locked = _jobs(scope).select_for_update().filter(pk=job.pk).first()
        if locked is None or not bulk_job_lost(scope=scope, job=locked):
            return False
        _jobs(scope).filter(pk=job.pk).update(state=BulkJobFields.State.QUEUED)
        transaction.on_commit(partial(bulk_job_run_task.delay, scope, job.pk))
    return True


@transaction.atomic
def bulk_job_create(
    *,
    organization: Organization | None,
    caller: str,
    kind: str,
    media_type: str,
    body: bytes,
    rows: int,
) -> BulkJobFields:
    """Store a batch and queue its import (after commit); the job to poll."""
    from scoring.tasks import bulk_job_run_task

    fields = {"caller": caller, "kind": kind, "media_type": media_type, "rows": rows}
    job: BulkJobFields
    if organization is not None:
        job = OrganizationBulkJob(organization=organization, **fields)
        scope = ORGANIZATION
    else:
        job = TelemetryBulkJob(**fields)
        scope = TELEMETRY
    extension = "json" if media_type == JSON else "csv"
    job.payload.save(f"{kind}.{extension}", ContentFile(body), save=False)
    job.save()
    transaction.on_commit(partial(bulk_job_run_task.delay, scope, job.pk))
    return job


class _JobProgress:
    """Rows validated and written: in the cache always, on the row outside a transaction."""

    def __init__(self, scope: str, job_id: int) -> None:
        self.scope, self.job_id = scope, job_id
        self.state = {"rows_validated": 0, "rows_written": 0}
        self._saved_at = time.monotonic()

    def validated(self, rows: int) -> None:
        self._report(rows_validated=rows)

    def written(self, rows: int) -> None:
        self._report(rows_written=rows)

    def _report(self, **counts: int) -> None:
        self.state.update(counts)
        cache.set(progress_cache_key(self.scope, self.job_id), self.state, PROGRESS_TTL_SECONDS)
        _beat(self.scope, self.job_id)
        now = time.monotonic()
        if not connection.in_atomic_block and now - self._saved_at >= PROGRESS_SAVE_SECONDS:
            # The row is the fallback when the cache is gone; the pollers read the cache.
            _jobs(self.scope).filter(pk=self.job_id).update(**self.state)
            self._saved_at = now


def bulk_job_progress(*, scope: str, job: BulkJobFields) -> dict[str, int]:
    """The job's rows validated and written so far (the live counts while it runs)."""
    progress = {"rows_validated": job.rows_validated, "rows_written": job.rows_written}
    if job.state == BulkJobFields.State.RUNNING:
        live = cache.get(progress_cache_key(scope, job.pk)) or {}
        for name, value in live.items():
            progress[name] = max(progress.get(name, 0), int(value))
    return progress


def bulk_job_run(*, scope: str, job_id: int) -> str | None:
    """Import a stored batch, all rows or none, and record how it ended; the final state.

    A job already finished is not run again; one left running by a worker that died is run
    again from the start (its transaction was rolled back: nothing of it is in)."""
    jobs = _jobs(scope).filter(pk=job_id)
    claimed = jobs.filter(
        state__in=[BulkJobFields.State.QUEUED, BulkJobFields.State.RUNNING]
    ).update(
        state=BulkJobFields.State.RUNNING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
        rows_validated=0,
        rows_written=0,
    )
    job = jobs.first()
    if job is None or not claimed:
        return None
    cache.delete(progress_cache_key(scope, job_id))
    _beat(scope, job_id)
    progress = _JobProgress(scope, job_id)
    try:
        with job.payload.open("rb") as body:
            if job.media_type == JSON:
                records = json.load(body)
                progress.validated(0)
                result = import_records(job.kind, records, actor=None)
            else:
                result = import_csv_tracked(job.kind, body, actor=None, progress=progress)
    except Exception as error:
        logger.exception("bulk job %s/%s failed", scope, job_id)
        detail = f"{type(error).__name__}: {error}"
        _finish(scope, job, state=BulkJobFields.State.FAILED, error=error_body(
            SERVER_ERROR, [{"code": "import_failed", "detail": detail, "attr": None}]
        ))  # fmt: skip
        return BulkJobFields.State.FAILED
    if not result.ok:
        _finish(
            scope,
            job,
            state=BulkJobFields.State.FAILED,
            error=error_body(VALIDATION_ERROR, row_error_items(result.errors)),
            rows_validated=job.rows,
        )
        return BulkJobFields.State.FAILED
    report = import_report(result)
    _finish(
        scope,
        job,
        state=BulkJobFields.State.SUCCEEDED,
        report=report,
        rows_validated=job.rows,
        rows_written=result.rows,
    )
    if result.created or result.updated:
        import_finished_notify(organization_ids=result.organization_ids, report=report)
    return BulkJobFields.State.SUCCEEDED


def _finish(scope: str, job: BulkJobFields, *, state: str, **fields: Any) -> None:
    _jobs(scope).filter(pk=job.pk).update(state=state, finished_at=timezone.now(), **fields)
    cache.delete(progress_cache_key(scope, job.pk))
    # The body is not kept once the job has ended: the report is what the caller reads.
    job.payload.delete(save=False)
    _jobs(scope).filter(pk=job.pk).update(payload="")
