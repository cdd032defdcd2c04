"""Reads of the scoring app: rule sets in force, snapshots, what the score pages show.

`rule_set_to_engine` turns a stored rule set into the engine's data and the measures layer's
parameters: tracks (a metric of a track reads its measures at "track/code"), gated steps (one
certification requirement per step, keyed by the step), options (a source's key is
"platform:option"), percentage growth, unit sizes, the rate card and retired certifications'
counts-until dates (a certification past its date is held by nobody for the rule set).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from django.db import connection, models
from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery

from portal.models import Certification, Organization
from scoring import engine
from scoring.labels import singular_label
from scoring.models import (
    CertificationGroup,
    CertificationLifetime,
    CertificationStep,
    Designation,
    Measure,
    MetricRule,
    MetricSource,
    RateCardEntry,
    RuleSet,
    ScoreSnapshot,
    Track,
    TrackMode,
    Workload,
)


@dataclass(frozen=True)
class SourceParams:
    """What the measures layer needs to compute one source of one metric.

    `metric_code` is the metric's slot ("track/code" for a metric of one track). `rates`:
    (measure, workload, rate) of the rate card, for consumption-value sources.
    """

    metric_code: str
    key: str
    platform: str
    attributions: tuple[str, ...]
    measure: str
    workloads: tuple[str, ...]
    seat_threshold: int | None
    usage_threshold: Decimal | None
    production_only: bool
    computation: str = ""
    count_unit: str = ""
    seat_max: int | None = None
    lookback_months: int = 1
    rates: tuple[tuple[str, str, Decimal], ...] = ()


@dataclass(frozen=True)
class CertificationRequirement:
    """A person counts when every group holds: ('all', {codes}) or ('any', {codes}).

    `key` is the measure key the count goes to: "people", or a gated metric's step key.
    """

    metric_code: str
    groups: tuple[tuple[str, frozenset[str]], ...]
    key: str = "people"


@dataclass(frozen=True)
class Classification:
    """A classified track's rule, for the measures layer (scoring.models.Track)."""

    designation_code: str
    track: str
    rule: str
    count: int | None
    threshold: Decimal | None
    segment: str
    share: Decimal | None
    workloads: tuple[str, ...]
    # segment_share: the customer base counted — customers on these platforms associated
    # through these types (the designation's own sources'), not every customer of the partner;
    # empty: no restriction.
    platforms: tuple[str, ...] = ()
    attributions: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSetInForce:
    model: RuleSet
    rules: engine.RuleSet
    sources: tuple[SourceParams, ...]
    certification_requirements: tuple[CertificationRequirement, ...]
    classifications: tuple[Classification, ...] = ()

    @property
    def designation_code(self) -> str:
        return self.rules.designation


RETIRED = "@retired"
"""Appended to a certification code past its counts-until date: nobody holds that code."""


def current_codes(codes: Iterable[str]) -> list[str]:
    """A group's certification codes, sorted, without those past their counts-until date
    (`RETIRED`): nobody can come to hold one toward the metric, so none is a way to get there."""
    return sorted(code for code in codes if not code.endswith(RETIRED))


# The workloads a source counts: an Azure area counts its services' consumption too.
_AreaServices = dict[str, list[tuple[str, bool]]]


def _requirement_text(groups: tuple[tuple[str, frozenset[str]], ...]) -> str:
    """The engine's requirement text of certification groups ("holding AZ-104 + one of …"),
    of their current certifications (`current_codes`)."""
    parts: list[str] = []
    for mode, codes in groups:
        ordered = current_codes(codes)
        if not ordered:
            continue
        if mode == CertificationGroup.Mode.ALL or len(ordered) == 1:
            parts.append(" + ".join(ordered))
        else:
            parts.append("one of " + "/".join(ordered))
    return "holding " + " + ".join(parts) if parts else ""


def _groups_of(
    groups: list[CertificationGroup], retired: set[str]
) -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple(
        (
            group.mode,
            frozenset(
                c.code + RETIRED if c.code in retired else c.code
                for c in group.certifications.all()
            ),
        )
        for group in groups
    )


def _source_workloads(source: MetricSource, services: _AreaServices) -> tuple[str, ...]:
    """The source's workload codes; an Azure area brings its services, and a distinct-service
    count only the services that count as distinct."""
    chosen: set[str] = set()
    for workload in source.workloads.all():
        if workload.kind == Workload.Kind.AREA:
            distinct_only = source.computation == MetricSource.Computation.DISTINCT_SERVICES
            if not distinct_only:
                chosen.add(workload.code)
            chosen.update(
                code
                for code, distinct in services.get(workload.code, ())
                if distinct or not distinct_only
            )
        elif (
            source.computation != MetricSource.Computation.DISTINCT_SERVICES
            or workload.distinct_service
        ):
            chosen.add(workload.code)
    return tuple(sorted(chosen))


def _metric_to_engine(
    metric: MetricRule,
    *,
    retired: set[str] = frozenset(),  # type: ignore[assignment]  # read only
    services: _AreaServices | None = None,
    rates: tuple[tuple[str, str, Decimal], ...] = (),
) -> tuple[engine.MetricRule, list[SourceParams], list[CertificationRequirement]]:
    track = metric.track.code if metric.track is not None else ""
    slot = f"{track}/{metric.code}" if track else metric.code
    all_groups = list(metric.certification_groups.all())
    steps = list(metric.steps.all())
    loose_groups = [g for g in all_groups if g.step_id is None]
    groups = _groups_of(loose_groups, retired)
    sources: list[engine.SourceRule] = []
    params: list[SourceParams] = []
    for source in metric.sources.all():
        key = f"{source.platform}:{source.option}" if source.option else source.platform
        percent = source.computation == MetricSource.Computation.PERCENT_GROWTH
        sources.append(
            engine.SourceRule(
                key=key,
                label=source.label,
                unit=engine.PERCENT if percent else source.unit,
                target=source.target,  # type: ignore[arg-type]  # the engine converts Decimal
                label_one=singular_label(source.label),
                option=source.option,
                unit_size=source.unit_size,  # type: ignore[arg-type]
                percent=percent,
                min_baseline=source.min_baseline,  # type: ignore[arg-type]
                baseline_unit=source.unit,
            )
        )
        params.append(
            SourceParams(
                metric_code=slot,
                key=key,
                platform=source.platform,
                attributions=tuple(sorted(source.attributions)),
                measure=source.measure,
                workloads=_source_workloads(source, services or {}),
                seat_threshold=source.seat_threshold,
                usage_threshold=source.usage_threshold,
                production_only=source.production_only,
                computation=source.computation,
                count_unit=source.count_unit,
                seat_max=source.seat_max,
                lookback_months=source.lookback_months,
                rates=rates if source.measure == Measure.CONSUMPTION_VALUE else (),
            )
        )
    requirements: list[CertificationRequirement] = []
    engine_steps: list[engine.StepRule] = []
    for step in steps:
        step_groups = _groups_of([g for g in all_groups if g.step_id == step.pk], retired)
        key = f"step{step.position}"
        requirements.append(CertificationRequirement(metric_code=slot, groups=step_groups, key=key))
        engine_steps.append(
            engine.StepRule(
                key=key,
                min_people=step.min_people,
                scoring=step.scoring,
                points_each=step.points_each,  # type: ignore[arg-type]
                points_cap=step.points_cap,  # type: ignore[arg-type]
                requirement=_requirement_text(step_groups),
                groups=tuple((mode, tuple(current_codes(codes))) for mode, codes in step_groups),
            )
        )
    if groups and not steps:
        requirements.append(CertificationRequirement(metric_code=slot, groups=groups))
        sources = [
            engine.SourceRule(
                key="people",
                label=metric.unit_label,
                unit=engine.COUNT,
                label_one=singular_label(metric.unit_label),
            )
        ]
    rule = engine.MetricRule(
        code=metric.code,
        category=metric.category,
        max_points=metric.max_points,  # type: ignore[arg-type]  # the engine converts Decimal
        target=metric.target,  # type: ignore[arg-type]
        scaling=metric.scaling,  # type: ignore[arg-type]
        unit_label=metric.unit_label,
        sources=tuple(sources) if not steps else (),
        requirement=_requirement_text(groups),
        unit_label_one=singular_label(metric.unit_label),
        track=track,
        steps=tuple(engine_steps),
    )
    return rule, params, requirements


def _area_services() -> _AreaServices:
    """Azure area code → its services' (code, counts as distinct) (one query)."""
    through = Workload.areas.through
    services: _AreaServices = defaultdict(list)
    for area, service, distinct in through.objects.values_list(
        "to_workload__code", "from_workload__code", "from_workload__distinct_service"
    ):
        services[area].append((service, distinct))
    return services


def _rule_set_to_engine(
    rule_set: RuleSet, *, as_of: date | None = None, services: _AreaServices | None = None
) -> tuple[
    engine.RuleSet, list[SourceParams], list[CertificationRequirement], list[Classification]
]:
    """`as_of`: certifications past their counts-until date on that day count for nobody."""
    retired = {
        lifetime.certification.code
        for lifetime in rule_set.lifetimes.all()
        if as_of is not None and lifetime.counts_until < as_of
    }
    rates = tuple(
        sorted((entry.measure, entry.workload.code, entry.rate) for entry in rule_set.rates.all())
    )
    if services is None:
        services = _area_services()
    metrics, sources, requirements = [], [], []
    for metric in rule_set.metrics.all():
        rule, params, metric_requirements = _metric_to_engine(
            metric, retired=retired, services=services, rates=rates
        )
        metrics.append(rule)
        sources.extend(params)
        requirements.extend(metric_requirements)
    tracks = list(rule_set.tracks.all())
    classifications = [
        Classification(
            designation_code=rule_set.designation.code,
            track=track.code,
            rule=track.classify_rule,
            count=track.classify_count,
            threshold=track.classify_threshold,
            segment=track.classify_segment,
            share=track.classify_share,
            workloads=tuple(sorted(w.code for w in track.classify_workloads.all())),
            platforms=tuple(sorted({p.platform for p in sources})),
            attributions=tuple(sorted({a for p in sources for a in p.attributions})),
        )
        for track in tracks
        if track.classify_rule and rule_set.track_mode == TrackMode.CLASSIFIED
    ]
    rules = engine.RuleSet(
        designation=rule_set.designation.code,
        version=rule_set.version,
        qualifying_total=rule_set.qualifying_total,  # type: ignore[arg-type]
        min_metric_points=rule_set.min_metric_points,  # type: ignore[arg-type]
        metrics=tuple(metrics),
        tracks=tuple(
            engine.TrackRule(code=t.code, label=t.name, classified=bool(t.classify_rule))
            for t in tracks
        ),
        track_mode=rule_set.track_mode,  # type: ignore[arg-type]  # the engine checks it
    )
    return rules, sources, requirements, classifications


def rule_set_to_engine(*, rule_set: RuleSet) -> engine.RuleSet:
    """The engine's view of a stored rule set, not yet validated; the shape scoring uses."""
    return _rule_set_to_engine(rule_set)[0]


def rule_set_prefetch(queryset: QuerySet[RuleSet]) -> QuerySet[RuleSet]:
    """A rule-set queryset with every part the conversion reads, in one round of queries."""
    return queryset.select_related("designation").prefetch_related(
        Prefetch(
            "metrics",
            queryset=MetricRule.objects.order_by("id")
            .select_related("track")
            .prefetch_related(
                Prefetch(
                    "sources",
                    queryset=MetricSource.objects.order_by("id").prefetch_related("workloads"),
                ),
                Prefetch("steps", queryset=CertificationStep.objects.order_by("position", "id")),
                Prefetch(
                    "certification_groups",
                    queryset=CertificationGroup.objects.order_by("id").prefetch_related(
                        "certifications"
                    ),
                ),
            ),
        ),
        Prefetch(
            "tracks",
            queryset=Track.objects.order_by("position", "id").prefetch_related(
                "classify_workloads"
            ),
        ),
        Prefetch(
            "lifetimes", queryset=CertificationLifetime.objects.select_related("certification")
        ),
        Prefetch("rates", queryset=RateCardEntry.objects.select_related("workload")),
    )


# --- which rule-set version is in force ----------------------------------------------------

_Row = TypeVar("_Row", bound=models.Model)


def later_version_exists(
    *, rows: QuerySet[_Row], partition: Sequence[str], rule_set: str = ""
) -> Exists:
    """Whether `rows` hold a later rule-set version than the outer row's, in its partition.

    The one definition of "the latest version wins": of the versions of a designation that
    apply (those effective on a day; those a date was scored with), the greatest version number
    is the one in force, every other is superseded. `rule_set` is the path from a row to its
    rule set ("" for rule sets themselves); `partition` names the fields both rows share.
    """
    prefix = f"{rule_set}__" if rule_set else ""
    return Exists(
        rows.filter(
            **{field: OuterRef(field) for field in partition},
            **{f"{prefix}version__gt": OuterRef(f"{prefix}version")},
        )
    )


def rule_set_superseded_on(*, day: date) -> Exists:
    """For a rule-set queryset: whether a later version of its designation is in force on the
    day (always false for a version not yet in force: later versions take effect later)."""
    return later_version_exists(
        rows=RuleSet.objects.filter(effective_from__lte=day), partition=("designation",)
    )


def rule_set_in_force_list(*, on: date) -> QuerySet[RuleSet]:
    """Per designation, the rule set in force on the day: effective by then and not superseded."""
    return (
        RuleSet.objects.filter(effective_from__lte=on)
        .alias(superseded=rule_set_superseded_on(day=on))
        .filter(superseded=False)
    )


def snapshots_of_latest_version(snapshots: QuerySet[ScoreSnapshot]) -> QuerySet[ScoreSnapshot]:
    """Several rule-set versions scored one date: only the latest version's snapshot counts."""
    # Narrowed to the outer row's organization by the partition: not a cross-tenant read.
    same_date = ScoreSnapshot.objects.unscoped()
    return snapshots.alias(
        superseded=later_version_exists(
            rows=same_date,
            partition=("organization", "designation", "as_of"),
            rule_set="rule_set",
        )
    ).filter(superseded=False)


def rule_sets_in_force(*, as_of: date) -> list[RuleSetInForce]:
    """For each designation, the latest rule-set version effective on or before the date."""
    candidates = rule_set_prefetch(
        rule_set_in_force_list(on=as_of).order_by("designation__position", "designation_id")
    )
    services = _area_services()
    in_force: list[RuleSetInForce] = []
    for rule_set in candidates:
        rules, sources, requirements, classifications = _rule_set_to_engine(
            rule_set, as_of=as_of, services=services
        )
        engine.validate_rule_set(rules)
        in_force.append(
            RuleSetInForce(
                model=rule_set,
                rules=rules,
                sources=tuple(sources),
                certification_requirements=tuple(requirements),
                classifications=tuple(classifications),
            )
        )
    return in_force


# Rule sets change rarely and are read for every recompute: keep the converted rule sets per
# process, keyed by the as-of date and a stamp of the rule tables, so that a one-organization
# recompute does not reload the whole program every time. Any audited change (admin, services,
# imports) adds a history row and so changes the stamp; the row counts catch the rest.
_RULES_CACHE: dict[date, tuple[tuple[object, ...], list[RuleSetInForce]]] = {}
_RULE_MODELS = (
    RuleSet,
    MetricRule,
    MetricSource,
    CertificationGroup,
    CertificationStep,
    CertificationLifetime,
    RateCardEntry,
    Track,
    Designation,
    Workload,
    Certification,
)


def _rules_stamp() -> tuple[object, ...]:
    parts = []
    for model in _RULE_MODELS:
        history = model.history.model._meta.db_table  # type: ignore[attr-defined]
        parts.append(f"(SELECT MAX(history_id) FROM {history})")
        parts.append(f"(SELECT COUNT(*) FROM {model._meta.db_table})")
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return tuple(cursor.fetchone() or ())


def rule_sets_in_force_cached(*, as_of: date) -> list[RuleSetInForce]:
    """`rule_sets_in_force`, reused while the rule tables are unchanged (one query)."""
    return rule_sets_in_force_stamped(as_of=as_of)[1]


def rule_sets_in_force_stamped(*, as_of: date) -> tuple[tuple[object, ...], list[RuleSetInForce]]:
    """The rule tables' stamp and `rule_sets_in_force` (reused while the stamp is unchanged).

    The stamp (the latest history id and the row count of every rule table) changes with any
    audited edit of the rules — a rule set, one of its metrics, sources, certification groups
    or steps, the rate card, a certification's lifetime — so a cache of anything computed from
    the rules can put it in its key (one query for both).
    """
    stamp = _rules_stamp()
    cached = _RULES_CACHE.get(as_of)
    if cached is not None and cached[0] == stamp:
        return stamp, cached[1]
    rule_sets = rule_sets_in_force(as_of=as_of)
    if len(_RULES_CACHE) > 64:
        _RULES_CACHE.clear()
    _RULES_CACHE[as_of] = (stamp, rule_sets)
    return stamp, rule_sets


def snapshot_list(
    *, organization: Organization, as_of: date | None = None
) -> QuerySet[ScoreSnapshot]:
    """An organization's snapshots, newest first; one date when `as_of` is given."""
    snapshots = ScoreSnapshot.objects.for_org(organization).select_related(
        "designation", "rule_set"
    )
    if as_of is not None:
        snapshots = snapshots.filter(as_of=as_of)
    return snapshots.order_by("-as_of", "designation__position")


def snapshot_latest_date(*, organization: Organization) -> date | None:
    """The most recent as-of date the organization has scores for."""
    latest = ScoreSnapshot.objects.for_org(organization).order_by("-as_of").values("as_of").first()
    return latest["as_of"] if latest else None


EXPORT_METRIC_KEYS = ("code", "points", "max_points", "value", "target", "gap")


def score_export_rows(*, organization_ids: list[int], as_of: date) -> list[dict[str, object]]:
    """Snapshots of these organizations on a date, in the export contract's shape.

    When a designation has snapshots under several rule-set versions for the date, the latest
    version wins.
    """
    # The command names the organizations (every one by default): a deliberate cross-tenant read.
    dated = ScoreSnapshot.objects.unscoped().filter(
        organization_id__in=organization_ids, as_of=as_of
    )
    snapshots = (
        snapshots_of_latest_version(dated)
        .select_related("organization", "designation", "rule_set")
        .order_by("organization__partner_id", "designation__position", "designation_id")
    )
    rows: list[dict[str, object]] = []
    for snapshot in snapshots:
        rows.append(
            {
                "partner_id": snapshot.organization.partner_id,
                "designation": snapshot.designation.code,
                "as_of": snapshot.as_of.isoformat(),
                "rule_set_version": snapshot.rule_set.version,
                # Added for the published versions: the counting track, the release followed.
                "track": snapshot.track,
                "rule_version": snapshot.rule_set.version_label,
                "total": snapshot.total,
                "qualified": snapshot.qualified,
                "metrics": [
                    {key: metric[key] for key in EXPORT_METRIC_KEYS} for metric in snapshot.metrics
                ],
            }
        )
    return rows


# --- what the score pages show ---------------------------------------------------------------

# (rule set, metric) → the metric's certification groups: (mode, exam codes) each. The metric is
# its code, or "<track>/<code>" for a metric of one track (a track's own skilling steps).
CertificationGroupRows = dict[tuple[int, str], list[tuple[str, list[str]]]]


@dataclass(frozen=True)
class ScoreBoard:
    """An organization's scores on one date: every designation, the snapshot shown for each."""

    as_of: date | None
    designations: list[Designation]
    snapshots: dict[int, ScoreSnapshot]  # by designation id; a designation may have none
    certification_groups: CertificationGroupRows


def designation_list() -> QuerySet[Designation]:
    """The designations in the program's order."""
    return Designation.objects.order_by("position", "code")


def snapshot_dates(*, organization: Organization) -> list[date]:
    """The dates the organization has scores for, newest first."""
    return list(
        ScoreSnapshot.objects.for_org(organization)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .distinct()
    )


def snapshot_date_shown(*, dates: Sequence[date], wanted: date | None) -> date | None:
    """The date whose scores answer a request for `wanted`: the latest on or before it; the
    latest overall when none is or nothing was asked (`dates` newest first)."""
    if not dates:
        return None
    if wanted is None:
        return dates[0]
    return next((day for day in dates if day <= wanted), dates[0])


def certification_group_rows(*, rule_set_ids: set[int]) -> CertificationGroupRows:
    """The certification groups of these rule sets' metrics, as plain rows, in group order."""
    if not rule_set_ids:
        return {}
    through = CertificationGroup.certifications.through
    rows = (
        through.objects.filter(certificationgroup__metric__rule_set_id__in=rule_set_ids)
        .order_by("certificationgroup_id")
        .values_list(
            "certificationgroup__metric__rule_set_id",
            "certificationgroup__metric__track__code",
            "certificationgroup__metric__code",
            "certificationgroup_id",
            "certificationgroup__mode",
            "certification__code",
        )
    )
    by_metric: dict[tuple[int, str], dict[int, tuple[str, list[str]]]] = defaultdict(dict)
    for rule_set_id, track, metric_code, group_id, mode, code in rows:
        slot = f"{track}/{metric_code}" if track else metric_code
        by_metric[(rule_set_id, slot)].setdefault(group_id, (mode, []))[1].append(code)
    return {key: list(groups.values()) for key, groups in by_metric.items()}


def score_board(*, organization: Organization, as_of: date | None) -> ScoreBoard:
    """Every designation with the organization's snapshot of the date (the latest version's)."""
    designations = list(designation_list())
    if as_of is None:
        return ScoreBoard(
            as_of=None, designations=designations, snapshots={}, certification_groups={}
        )
    snapshots = {
        snapshot.designation_id: snapshot
        for snapshot in snapshots_of_latest_version(
            snapshot_list(organization=organization, as_of=as_of)
        )
    }
    groups = certification_group_rows(
        rule_set_ids={snapshot.rule_set_id for snapshot in snapshots.values()}
    )
    return ScoreBoard(
        as_of=as_of, designations=designations, snapshots=snapshots, certification_groups=groups
    )


def score_summary_snapshots(*, organization: Organization) -> list[ScoreSnapshot]:
    """The latest date's snapshot per designation, by position, in one query."""
    latest = ScoreSnapshot.objects.for_org(organization).order_by("-as_of").values("as_of")[:1]
    snapshots = ScoreSnapshot.objects.for_org(organization).filter(as_of=Subquery(latest))
    return list(
        snapshots_of_latest_version(snapshots)
        .select_related("designation", "rule_set")
        .order_by("designation__position", "designation__code")
    )


# --- reads for the benefits app (self-contained: benefits reads scoring only through these) ---
# The models are imported here rather than at the top so this block stays one mergeable unit.
from scoring.models import ProgramDate, Specialization  # noqa: E402


def specialization_catalog_list() -> list[Specialization]:
    """Every specialization with its parent designation, in display order."""
    return list(
        Specialization.objects.select_related("designation").order_by(
            "designation__position", "name"
        )
    )


def program_date_get(*, code: str) -> date | None:
    """A key date of the program timeline (e.g. `general-availability`), or None."""
    return ProgramDate.objects.filter(code=code).values_list("date", flat=True).first()


def snapshot_qualified_days(
    *, organization: Organization, start: date, end: date
) -> dict[int, set[date]]:
    """Designation id → the days in [start, end] its snapshot says qualified, from the stored
    daily flags (no recompute); when several rule-set versions scored a day, the latest wins."""
    in_range = ScoreSnapshot.objects.for_org(organization).filter(as_of__gte=start, as_of__lte=end)
    rows = (
        snapshots_of_latest_version(in_range)
        .filter(qualified=True)
        .values_list("designation_id", "as_of")
    )
    days: dict[int, set[date]] = {}
    for designation_id, as_of in rows:
        days.setdefault(designation_id, set()).add(as_of)
    return days


def program_date_list() -> list[ProgramDate]:
    """The program timeline's key dates, in date order."""
    return list(ProgramDate.objects.order_by("date"))
