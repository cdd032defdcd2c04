"""Writes of the scoring app: recompute and snapshot scores, the nightly run ledger."""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import multiprocessing.util
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from fractions import Fraction
from itertools import repeat

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.db import connections as db_connections
from django.db.models import F
from django.utils import timezone

from portal.models import HeldCertification, Organization, Person
from scoring import engine
from scoring.measures import add_months, compute_measures
from scoring.models import Association, RecomputeRun, ScoreSnapshot, TrackFreeze
from scoring.selectors import RuleSetInForce, rule_sets_in_force_cached

logger = logging.getLogger(__name__)


class _PendingRecompute:
    """Organizations to recompute once the current transaction commits, per as-of date.

    One callback per transaction however many edits it holds: an import of a thousand people
    queues one recompute of their organization, not a thousand.
    """

    def __init__(self) -> None:
        self.by_date: dict[str, set[int]] = {}

    def add(self, day: str, ids: set[int]) -> None:
        self.by_date.setdefault(day, set()).update(ids)

    def flush(self) -> None:
        from scoring.tasks import scores_recompute_task

        by_date, self.by_date = self.by_date, {}
        for day, ids in sorted(by_date.items()):
            scores_recompute_task.delay(sorted(ids), day)


_PENDING_ATTRIBUTE = "_scoring_pending_recompute"


def scores_recompute_on_commit(
    *, organization_ids: Iterable[int], as_of: date | None = None
) -> None:
    """After the current transaction commits, queue a recompute of these organizations."""
    ids = set(organization_ids)
    if not ids:
        return
    day = (as_of or timezone.localdate()).isoformat()
    connection = transaction.get_connection()
    pending: _PendingRecompute | None = getattr(connection, _PENDING_ATTRIBUTE, None)
    # A rolled-back transaction drops its callbacks: start a new batch when ours is gone.
    registered = pending is not None and any(
        callback == pending.flush for _, callback, *_ in connection.run_on_commit
    )
    if pending is None or not registered or not connection.in_atomic_block:
        pending = _PendingRecompute()
        setattr(connection, _PENDING_ATTRIBUTE, pending)
        pending.add(day, ids)
        transaction.on_commit(pending.flush)
        return
    pending.add(day, ids)


def scores_recompute_on_commit_withdraw() -> set[int]:
    """Take back the organizations the current transaction queued for recompute after commit.

    For a caller that recomputes them itself once it commits (the staff web import, which
    shows the recompute's progress); nothing is queued for them then.
    """
    connection = transaction.get_connection()
    pending: _PendingRecompute | None = getattr(connection, _PENDING_ATTRIBUTE, None)
    if pending is None or not connection.in_atomic_block:
        return set()
    by_date, pending.by_date = pending.by_date, {}
    return set().union(*by_date.values()) if by_date else set()


# What a partner's scores read of its own rows: the organization (country), its people and
# their certifications, its associations. Telemetry and rules are shared (other doors).
SCORED_MODELS: tuple[type[models.Model], ...] = (
    Organization,
    Person,
    HeldCertification,
    Association,
)


def scores_affected_organization_ids(*, instances: Iterable[models.Model]) -> set[int]:
    """The organizations whose scores a change of these rows (or their history records) moves.

    A row counts for its organization; a history record of a change also for the organization
    the row belonged to before, so that moving an association (or a person) to another
    organization recomputes both.
    """
    ids: set[int | None] = set()
    for instance in instances:
        model = getattr(instance, "instance_type", type(instance))  # history record → its model
        if not issubclass(model, SCORED_MODELS):
            continue
        if model is Organization:
            # By field name: a history record's own pk is its history id.
            ids.add(getattr(instance, model._meta.pk.attname))
            continue
        ids.add(getattr(instance, "organization_id", None))
        if getattr(instance, "history_type", None) == "~":
            previous = getattr(instance, "prev_record", None)  # simple-history: one query
            ids.add(getattr(previous, "organization_id", None))
    return {organization_id for organization_id in ids if organization_id is not None}


def scores_recompute_after_change(
    *,
    instances: Iterable[models.Model] = (),
    organization_ids: Iterable[int] = (),
    as_of: date | None = None,
) -> None:
    """A change to what scores read queues its organizations' recompute once, after commit.

    The one door for every writer: the audit history of the admin's, the pages' and services'
    saves (`scoring.signals`) passes the rows; imports, which write in bulk without per-row
    history signals, pass the organizations they touched.
    """
    ids = scores_affected_organization_ids(instances=instances) | set(organization_ids)
    scores_recompute_on_commit(organization_ids=ids, as_of=as_of)


def _number(value: Fraction) -> float | int:
    return int(value) if value.denominator == 1 else float(value)


def _breakdown(
    result: engine.DesignationResult, cache: dict[int, dict[str, object]]
) -> list[dict[str, object]]:
    """The per-metric breakdown stored with a snapshot (points unrounded).

    `cache` (by metric result identity; the caller keeps those results alive meanwhile)
    converts a metric result the engine shared between organizations once.
    """
    for metric in result.metrics:
        if id(metric) not in cache:
            cache[id(metric)] = _metric_breakdown(metric)
    return [cache[id(metric)] for metric in result.metrics]


def _metric_breakdown(metric: engine.MetricResult) -> dict[str, object]:
    return {
        "code": metric.code,
        "category": metric.category,
        "points": _number(metric.points),
        "max_points": _number(metric.max_points),
        "value": _number(metric.value),
        "target": _number(metric.target),
        "gap": metric.gap_text,
        "gap_parts": [
            {
                "amount": _number(part.amount),
                "label": part.label,
                "label_one": part.label_one,
                "unit": part.unit,
                # Optional, for texts in the reader's language: what a baseline lacks, the
                # certifications more people must hold ([mode, [codes]] per group).
                **({"baseline": True} if part.baseline else {}),
                **(
                    {"certifications": [[mode, list(codes)] for mode, codes in part.certifications]}
                    if part.certifications
                    else {}
                ),
            }
            for part in metric.gap
        ],
        "meets_minimum": metric.meets_minimum,
        "unlocks": metric.unlocks,
        "stepped": metric.stepped,
        "sources": {key: _number(value) for key, value in metric.sources.items()},
    }


def _chunks(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


# PostgreSQL: the whole chunk as one JSON document, unpacked by the server (jsonb_to_recordset:
# the document is parsed once, the breakdowns come out of it as jsonb).
_PG_SNAPSHOT_UPSERT = """
INSERT INTO scoring_scoresnapshot
    (organization_id, designation_id, rule_set_id, as_of, total, qualified, metrics, track,
     tracks, computed_at)
SELECT r.organization_id, r.designation_id, r.rule_set_id, r.as_of, r.total, r.qualified,
       r.metrics, r.track, r.tracks, r.computed_at
FROM jsonb_to_recordset(%s::jsonb) AS r(organization_id bigint, designation_id bigint,
    rule_set_id bigint, as_of date, total double precision, qualified boolean, metrics jsonb,
    track varchar(30), tracks jsonb, computed_at timestamptz)
ON CONFLICT (organization_id, designation_id, as_of, rule_set_id) DO UPDATE SET
    total = EXCLUDED.total, qualified = EXCLUDED.qualified, metrics = EXCLUDED.metrics,
    track = EXCLUDED.track, tracks = EXCLUDED.tracks, computed_at = EXCLUDED.computed_at
"""


def _snapshots_upsert(rows: Sequence[dict[str, object]]) -> None:
    """Insert or update snapshots on their natural key, all or nothing.

    On PostgreSQL one statement takes the rows as a single JSON parameter: bulk_create's
    upsert sends them as arrays, and quoting 1,500 JSON breakdowns into array literals costs
    about 0.3 s a chunk on the Python side (measured), this about 0.04 s. Elsewhere (SQLite,
    the quick-start database) bulk_create does it.
    """
    if not rows:
        return
    connection = db_connections[ScoreSnapshot.objects.db]
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "postgresql":
            document = json.dumps(rows, cls=DjangoJSONEncoder)
            with connection.cursor() as cursor:
                cursor.execute(_PG_SNAPSHOT_UPSERT, [document])
            return
        ScoreSnapshot.objects.bulk_create(
            [ScoreSnapshot(**row) for row in rows],
            update_conflicts=True,
            unique_fields=["organization", "designation", "as_of", "rule_set"],
            update_fields=["total", "qualified", "metrics", "track", "tracks", "computed_at"],
            batch_size=500,
        )


def _recompute_chunk(
    organization_ids: list[int], as_of: date, rule_sets: Sequence[RuleSetInForce]
) -> int:
    measures = compute_measures(organization_ids=organization_ids, as_of=as_of, rule_sets=rule_sets)
    now = timezone.now()
    snapshots = []
    for rule_set in rule_sets:
        results = engine.score_designations(
            rule_set.rules,
            [
                measures[organization_id][rule_set.designation_code]
                for organization_id in organization_ids
            ],
        )
        # Per rule set, while its results (and so the ids the cache is keyed by) are alive.
        breakdowns: dict[int, dict[str, object]] = {}
        for organization_id, result in zip(organization_ids, results, strict=True):
            snapshots.append(
                {
                    "organization_id": organization_id,
                    "designation_id": rule_set.model.designation_id,
                    "rule_set_id": rule_set.model.pk,
                    "as_of": as_of,
                    "total": float(result.total),
                    "qualified": result.qualified,
                    "metrics": _breakdown(result, breakdowns),
                    "track": result.track,
                    "tracks": [
                        {
                            "code": track.code,
                            "label": track.label,
                            "total": _number(track.total),
                            "qualified": track.qualified,
                        }
                        for track in result.tracks
                    ],
                    "computed_at": now,
                }
            )
    _snapshots_upsert(snapshots)
    return len(snapshots)


def scores_recompute(
    *, organization_ids: Iterable[int], as_of: date, workers: int | None = None
) -> int:
    """Compute and snapshot every designation of these organizations as of a date (idempotent).

    Chunks run in `workers` processes (default `SCORING_WORKERS`), as the nightly run's
    chunks run in Celery's worker processes: the SQL and the Python of several chunks then use
    every core. Only on PostgreSQL, outside a transaction (the processes must see the same
    committed data) and when forking is safe (`_may_fork`); otherwise one chunk after the
    other.
    """
    ids = sorted(set(organization_ids))
    existing = list(Organization.objects.unscoped().filter(pk__in=ids).values_list("pk", flat=True))
    rule_sets = rule_sets_in_force_cached(as_of=as_of)
    if not existing or not rule_sets:
        return 0
    chunks = list(_chunks(existing, settings.SCORING_CHUNK_SIZE))
    workers = min(workers or settings.SCORING_WORKERS, len(chunks))
    connection = transaction.get_connection()
    if (
        workers <= 1
        or connection.vendor != "postgresql"
        or connection.in_atomic_block
        or not _may_fork()
    ):
        return sum(_recompute_chunk(chunk, as_of, rule_sets) for chunk in chunks)
    # A forked child must not share the parent's database sockets: close them first (the
    # parent reconnects on its next query), each child opens and closes its own.
    db_connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_worker_process_init
    ) as pool:
        return sum(pool.map(_recompute_chunk_job, chunks, repeat(as_of.isoformat())))


def _may_fork() -> bool:
    """Whether worker processes can be forked from this one safely.

    Not from a daemonic process (a Celery worker's child cannot have children), and not once
    this process holds Celery broker connections: kombu closes them in every forked child,
    reading from the socket the parent shares, which can block the child for ever.
    """
    from portal.celery import app as celery_app

    return not multiprocessing.current_process().daemon and celery_app._pool is None


def _worker_process_init() -> None:
    """A worker process starts: freeze the heap it inherited out of the garbage collector's way.

    The inherited objects (Django, the rule sets) are long-lived; without this every full
    collection walks them again while the engine allocates (measured: 60–100 ms a chunk).
    """
    gc.freeze()
    # The worker keeps its database connection from chunk to chunk and closes it on exit.
    multiprocessing.util.Finalize(None, db_connections.close_all, exitpriority=0)


def _recompute_chunk_job(organization_ids: list[int], day: str) -> int:
    """One chunk in a worker process: ids and an ISO date in, the snapshot count out."""
    as_of = date.fromisoformat(day)
    return _recompute_chunk(organization_ids, as_of, rule_sets_in_force_cached(as_of=as_of))


def recompute_run_start(*, run_date: date) -> RecomputeRun | None:
    """Open the ledger row for a run date; None when a run of that date exists (or runs)."""
    try:
        with transaction.atomic():
            return RecomputeRun.objects.create(run_date=run_date)
    except IntegrityError:
        pass
    # A failed run may be started again; a running or finished one may not.
    restarted = RecomputeRun.objects.filter(
        run_date=run_date, status=RecomputeRun.Status.FAILED
    ).update(
        status=RecomputeRun.Status.RUNNING,
        chunks_done=0,
        error="",
        started_at=timezone.now(),
        finished_at=None,
    )
    return RecomputeRun.objects.get(run_date=run_date) if restarted else None


def nightly_chunks(*, run: RecomputeRun) -> list[list[int]]:
    """Split every organization into chunks and record the plan on the ledger row."""
    ids = list(Organization.objects.unscoped().order_by("pk").values_list("pk", flat=True))
    chunks = list(_chunks(ids, settings.SCORING_CHUNK_SIZE))
    RecomputeRun.objects.filter(pk=run.pk).update(chunks_total=len(chunks), organizations=len(ids))
    if not chunks:
        recompute_run_finish(run_id=run.pk)
    return chunks


def recompute_run_chunk_done(*, run_id: int) -> None:
    """Count a finished chunk; the last one closes the run."""
    RecomputeRun.objects.filter(pk=run_id).update(chunks_done=F("chunks_done") + 1)
    run = RecomputeRun.objects.get(pk=run_id)
    if run.chunks_done >= run.chunks_total:
        recompute_run_finish(run_id=run_id)


def recompute_run_finish(*, run_id: int, error: str = "") -> None:
    """Close a run as done, or as failed with the error."""
    RecomputeRun.objects.filter(pk=run_id, status=RecomputeRun.Status.RUNNING).update(
        status=RecomputeRun.Status.FAILED if error else RecomputeRun.Status.DONE,
        error=error,
        finished_at=timezone.now(),
    )


def scores_backfill_month_ends(
    *, organization_ids: Iterable[int], today: date, months: int = 24
) -> int:
    """Scores at each of the `months` month-ends before today's month (oldest first), as the
    nightly run would have computed them then: usage through that month, the certifications
    active on that day, the rule sets in force on it. Idempotent (the same upsert); what the
    history page reads when the nightly runs have not been going for long (the demo)."""
    ids = list(organization_ids)
    first = today.replace(day=1)
    written = 0
    for offset in range(months, 0, -1):
        month_end = add_months(first, 1 - offset) - timedelta(days=1)
        written += scores_recompute(organization_ids=ids, as_of=month_end)
    return written


# --- tracks frozen for the enrolment year -----------------------------------------------------


def track_freeze_for_term(
    *,
    organization: Organization,
    designation_code: str,
    starts_on: date,
    ends_on: date,
    classify_on: date,
) -> TrackFreeze | None:
    """Keep a classified designation's track for a term (enrolment or renewal to anniversary).

    The track is the one the classification gives on `classify_on` (the day the partner enrols
    or chooses to renew), scored afresh; a designation whose rules in force then have no
    classified tracks freezes nothing. A term that already has its freeze keeps it.
    """
    existing = (
        TrackFreeze.objects.for_org(organization)
        .filter(designation__code=designation_code, starts_on=starts_on)
        .first()
    )
    if existing is not None:
        return existing
    rule_set = next(
        (
            rs
            for rs in rule_sets_in_force_cached(as_of=classify_on)
            if rs.designation_code == designation_code
        ),
        None,
    )
    if rule_set is None or not rule_set.classifications:
        return None
    measures = compute_measures(
        organization_ids=[organization.pk],
        as_of=classify_on,
        rule_sets=[rule_set],
        track_freezes=False,
    )
    result = engine.score_designation(rule_set.rules, measures[organization.pk][designation_code])
    return TrackFreeze.objects.create(
        organization=organization,
        designation_id=rule_set.model.designation_id,
        track=result.track,
        starts_on=starts_on,
        ends_on=ends_on,
    )


def track_freeze_release(
    *, organization: Organization, designation_code: str, starts_on: date
) -> None:
    """A term withdrawn (its renewal option changed) no longer keeps a track."""
    TrackFreeze.objects.for_org(organization).filter(
        designation__code=designation_code, starts_on=starts_on
    ).delete()
