"""Writes behind the scoring API: a recompute asked for by an integrator, queued and tracked."""

from __future__ import annotations

from datetime import date
from functools import partial

from django.db import transaction
from django.utils import timezone

from portal.models import Organization
from scoring.models import ScoreRecomputeRequest
from scoring.services import scores_recompute
from scoring.webhook_events import scores_recomputed_notify


@transaction.atomic
def recompute_request_create(
    *, organization: Organization, requested_by: str, as_of: date | None = None
) -> ScoreRecomputeRequest:
    """Queue a recompute of the organization's scores as of a date (default today)."""
    from scoring.tasks import recompute_request_run_task

    request = ScoreRecomputeRequest.objects.create(
        organization=organization,
        as_of=as_of or timezone.localdate(),
        requested_by=requested_by,
    )
    transaction.on_commit(partial(recompute_request_run_task.delay, request.pk))
    return request


def recompute_request_run(*, request_id: int) -> int:
    """Run a queued recompute and record how it ended; a finished one is not run again."""
    # A task holds only the id: the organization comes from the row itself.
    rows = ScoreRecomputeRequest.objects.unscoped().filter(pk=request_id)
    started = rows.filter(
        status__in=[ScoreRecomputeRequest.Status.QUEUED, ScoreRecomputeRequest.Status.FAILED]
    ).update(status=ScoreRecomputeRequest.Status.RUNNING, started_at=timezone.now(), error="")
    request = rows.first()
    if request is None or not started:
        return 0
    try:
        written = scores_recompute(organization_ids=[request.organization_id], as_of=request.as_of)
    except Exception as error:
        rows.update(
            status=ScoreRecomputeRequest.Status.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
        raise
    rows.update(
        status=ScoreRecomputeRequest.Status.DONE,
        snapshots_written=written,
        finished_at=timezone.now(),
    )
    scores_recomputed_notify(organization_ids=[request.organization_id], as_of=request.as_of)
    return written
