"""Reads of the scoring app: rule sets in force, snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Prefetch, QuerySet

from portal.models import Certification, Organization
from scoring import engine
from scoring.labels import singular_label
from scoring.models import (
    CertificationGroup,
    Designation,
    MetricRule,
    MetricSource,
    RuleSet,
    ScoreSnapshot,
    Workload,
)


@dataclass(frozen=True)
class SourceParams:
    """What the measures layer needs to compute one source of one metric."""

    metric_code: str
    key: str
    platform: str
    attributions: tuple[str, ...]
    measure: str
    workloads: tuple[str, ...]
    seat_threshold: int | None
    usage_threshold: Decimal | None
    production_only: bool


@dataclass(frozen=True)
class CertificationRequirement:
    """A person counts when every group holds: ('all', {codes}) or ('any', {codes})."""

    metric_code: str
    groups: tuple[tuple[str, frozenset[str]], ...]


@dataclass(frozen=True)
class RuleSetInForce:
    model: RuleSet
    rules: engine.RuleSet
    sources: tuple[SourceParams, ...]
    certification_requirements: tuple[CertificationRequirement, ...]

    @property
    def designation_code(self) -> str:
        return self.rules.designation


def _requirement_text(groups: tuple[tuple[str, frozenset[str]], ...]) -> str:
    parts: list[str] = []
    for mode, codes in groups:
        ordered = sorted(codes)
        if mode == CertificationGroup.Mode.ALL or len(ordered) == 1:
            parts.append(" + ".join(ordered))
        else:
            parts.append("one of " + "/".join(ordered))
    return "holding " + " + ".join(parts) if parts else ""


def _metric_to_engine(
    metric: MetricRule,
) -> tuple[engine.MetricRule, list[SourceParams], CertificationRequirement | None]:
    groups = tuple(
        (group.mode, frozenset(c.code for c in group.certifications.all()))
        for group in metric.certification_groups.all()
    )
    sources: list[engine.SourceRule] = []
    params: list[SourceParams] = []
    for source in metric.sources.all():
        sources.append(
            engine.SourceRule(
                key=source.platform,
                label=source.label,
                unit=source.unit,
                target=source.target,  # type: ignore[arg-type]  # the engine converts Decimal
                label_one=singular_label(source.label),
            )
        )
        params.append(
            SourceParams(
                metric_code=metric.code,
                key=source.platform,
                platform=source.platform,
                attributions=tuple(source.attributions),
                measure=source.measure,
                workloads=tuple(sorted(w.code for w in source.workloads.all())),
                seat_threshold=source.seat_threshold,
                usage_threshold=source.usage_threshold,
                production_only=source.production_only,
            )
        )
    requirement = None
    if groups:
        requirement = CertificationRequirement(metric_code=metric.code, groups=groups)
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
        sources=tuple(sources),
        requirement=_requirement_text(groups),
        unit_label_one=singular_label(metric.unit_label),
    )
    return rule, params, requirement


def _rule_set_to_engine(
    rule_set: RuleSet,
) -> tuple[engine.RuleSet, list[SourceParams], list[CertificationRequirement]]:
    metrics, sources, requirements = [], [], []
    for metric in rule_set.metrics.all():
        rule, params, requirement = _metric_to_engine(metric)
        metrics.append(rule)
        sources.extend(params)
        if requirement is not None:
            requirements.append(requirement)
    rules = engine.RuleSet(
        designation=rule_set.designation.code,
        version=rule_set.version,
        qualifying_total=rule_set.qualifying_total,  # type: ignore[arg-type]
        min_metric_points=rule_set.min_metric_points,  # type: ignore[arg-type]
        metrics=tuple(metrics),
    )
    return rules, sources, requirements


def rule_set_to_engine(*, rule_set: RuleSet) -> engine.RuleSet:
    """The engine's view of a stored rule set, not yet validated; the shape scoring uses."""
    return _rule_set_to_engine(rule_set)[0]


def rule_sets_in_force(*, as_of: date) -> list[RuleSetInForce]:
    """For each designation, the latest rule-set version effective on or before the date."""
    candidates = (
        RuleSet.objects.filter(effective_from__lte=as_of)
        .select_related("designation")
        .order_by("designation__position", "designation_id", "-effective_from")
        .prefetch_related(
            Prefetch(
                "metrics",
                queryset=MetricRule.objects.order_by("id").prefetch_related(
                    Prefetch(
                        "sources",
                        queryset=MetricSource.objects.order_by("id").prefetch_related("workloads"),
                    ),
                    Prefetch(
                        "certification_groups",
                        queryset=CertificationGroup.objects.order_by("id").prefetch_related(
                            "certifications"
                        ),
                    ),
                ),
            )
        )
    )
    in_force: list[RuleSetInForce] = []
    seen: set[int] = set()
    for rule_set in candidates:
        if rule_set.designation_id in seen:
            continue
        seen.add(rule_set.designation_id)
        rules, sources, requirements = _rule_set_to_engine(rule_set)
        engine.validate_rule_set(rules)
        in_force.append(
            RuleSetInForce(
                model=rule_set,
                rules=rules,
                sources=tuple(sources),
                certification_requirements=tuple(requirements),
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
    stamp = _rules_stamp()
    cached = _RULES_CACHE.get(as_of)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rule_sets = rule_sets_in_force(as_of=as_of)
    if len(_RULES_CACHE) > 64:
        _RULES_CACHE.clear()
    _RULES_CACHE[as_of] = (stamp, rule_sets)
    return rule_sets


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
    snapshots = (
        ScoreSnapshot.objects.unscoped()
        .filter(organization_id__in=organization_ids, as_of=as_of)
        .select_related("organization", "designation", "rule_set")
        .order_by("organization__partner_id", "designation__position", "-rule_set__version")
    )
    rows: list[dict[str, object]] = []
    seen: set[tuple[int, int]] = set()
    for snapshot in snapshots:
        key = (snapshot.organization_id, snapshot.designation_id)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            {
                "partner_id": snapshot.organization.partner_id,
                "designation": snapshot.designation.code,
                "as_of": snapshot.as_of.isoformat(),
                "rule_set_version": snapshot.rule_set.version,
                "total": snapshot.total,
                "qualified": snapshot.qualified,
                "metrics": [
                    {key: metric[key] for key in EXPORT_METRIC_KEYS} for metric in snapshot.metrics
                ],
            }
        )
    return rows


# --- reads for the benefits app (self-contained: benefits reads scoring only through these) ---
# The models are imported here rather than at the top so this block stays one mergeable unit.
from scoring.models import ProgramDate, Specialization  # noqa: E402


def designation_catalog_list() -> list[Designation]:
    """Every designation, in display order (global reference data)."""
    return list(Designation.objects.order_by("position", "code"))


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
    rows = (
        ScoreSnapshot.objects.for_org(organization)
        .filter(as_of__gte=start, as_of__lte=end)
        .order_by("designation_id", "as_of", "-rule_set__version")
        .values_list("designation_id", "as_of", "qualified")
    )
    days: dict[int, set[date]] = {}
    seen: set[tuple[int, date]] = set()
    for designation_id, as_of, qualified in rows:
        if (designation_id, as_of) in seen:
            continue
        seen.add((designation_id, as_of))
        if qualified:
            days.setdefault(designation_id, set()).add(as_of)
    return days


def program_date_list() -> list[ProgramDate]:
    """The program timeline's key dates, in date order."""
    return list(ProgramDate.objects.order_by("date"))
