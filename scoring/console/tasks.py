"""Celery tasks of the web import: thin, ids in, one service each (registered from
`ScoringConfig.ready`)."""

from __future__ import annotations

from celery import Task, shared_task

from scoring.console import import_services
from scoring.tasks import RETRY_POLICY


class _ImportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):  # type: ignore[no-untyped-def]  # Celery's signature
        """Retries exhausted: the job is failed, so that staff can start it again."""
        job_id = kwargs.get("job_id", args[0] if args else None)
        attempt = kwargs.get("attempt", args[1] if len(args) > 1 else 0)
        if job_id is not None:
            import_services.import_job_fail(
                job_id=job_id, attempt=attempt, error=f"{type(exc).__name__}: {exc}"
            )


@shared_task(name="scoring.import_job_validate", base=_ImportTask, **RETRY_POLICY)
def import_job_validate_task(job_id: int) -> None:
    """Validate an uploaded file (nothing is written); idempotent."""
    import_services.import_job_validate(job_id=job_id)


@shared_task(name="scoring.import_job_run", base=_ImportTask, **RETRY_POLICY)
def import_job_run_task(job_id: int, attempt: int) -> None:
    """One attempt of a confirmed import: all rows or none, then the recomputes; idempotent."""
    import_services.import_job_run(job_id=job_id, attempt=attempt)
