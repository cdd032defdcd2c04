"""Celery tasks: thin wrappers that take ids and ISO dates, look up, and call one service."""

from __future__ import annotations

import logging
from datetime import date

from celery import Task, shared_task
from django.utils import timezone

from scoring import services
from scoring.webhook_events import scores_recomputed_notify

logger = logging.getLogger(__name__)

RETRY_POLICY = {
    "acks_late": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="scoring.recompute_organizations", **RETRY_POLICY)
def scores_recompute_task(organization_ids: list[int], as_of: str) -> int:
    """Recompute every designation of the given organizations as of the date (idempotent)."""
    day = date.fromisoformat(as_of)
    written = services.scores_recompute(organization_ids=organization_ids, as_of=day)
    scores_recomputed_notify(organization_ids=organization_ids, as_of=day)
    return written


class _ChunkTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):  # type: ignore[no-untyped-def]  # Celery's signature
        """Retries exhausted: mark the run failed so that it can be started again."""
        run_id = kwargs.get("run_id", args[0] if args else None)
        if run_id is not None:
            services.recompute_run_finish(run_id=run_id, error=f"{type(exc).__name__}: {exc}")


@shared_task(name="scoring.recompute_nightly_chunk", base=_ChunkTask, **RETRY_POLICY)
def scores_recompute_chunk_task(run_id: int, organization_ids: list[int], as_of: str) -> int:
    """One chunk of the nightly run; counts itself done on the ledger."""
    day = date.fromisoformat(as_of)
    written = services.scores_recompute(organization_ids=organization_ids, as_of=day)
    scores_recomputed_notify(organization_ids=organization_ids, as_of=day)
    services.recompute_run_chunk_done(run_id=run_id)
    return written


@shared_task(name="scoring.recompute_nightly", acks_late=True, ignore_result=False)
def scores_recompute_nightly_task(run_date: str | None = None) -> int | None:
    """Start the nightly run for a date (default today) and fan out one task per chunk.

    The ledger row, unique per date, makes a second start for the same date a no-op.
    """
    day = date.fromisoformat(run_date) if run_date else timezone.localdate()
    run = services.recompute_run_start(run_date=day)
    if run is None:
        logger.info("Recompute run for %s exists already; nothing to do.", day)
        return None
    chunks = services.nightly_chunks(run=run)
    for chunk in chunks:
        scores_recompute_chunk_task.delay(run.pk, chunk, day.isoformat())
    return len(chunks)


@shared_task(name="scoring.recompute_requested", **RETRY_POLICY)
def recompute_request_run_task(request_id: int) -> int:
    """Run one recompute asked for through the API (idempotent: a finished one is left alone)."""
    from scoring import api_services

    return api_services.recompute_request_run(request_id=request_id)


@shared_task(name="scoring.bulk_job_run", acks_late=True)
def bulk_job_run_task(scope: str, job_id: int) -> str | None:
    """Import a bulk upload the API stored (`scoring.api_jobs`); a finished one is skipped.

    Not retried on an error (the job records it as failed); a worker that dies mid-import gets
    the message redelivered (acks_late) and the job runs again from the start."""
    from scoring.api_jobs import bulk_job_run

    return bulk_job_run(scope=scope, job_id=job_id)
